/**
 * Standalone relay from a clone: `tsx src/relay/main.ts [flags]`, exactly what
 * `npx macula-web relay [flags]` runs from the package (flags and environment: src/cli/args.ts).
 */
process.argv.splice(2, 0, 'relay');
await import('../cli/main.js');
export {};
