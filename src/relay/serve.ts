/**
 * `npm start` (after scripts/start.ts has built the demo) and the e2e tier's server: the
 * built demo and the bootstrap relay on one port, exactly what `npx macula-web demo [flags]`
 * runs (flags and environment, STUN/TURN and TLS included: src/cli/args.ts), so
 * `npm start -- --port 8788 --turn turn:host:3478` works too.
 */
process.argv.splice(2, 0, 'demo');
await import('../cli/main.js');
export {};
