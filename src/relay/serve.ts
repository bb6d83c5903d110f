/**
 * `npm start` (after scripts/start.ts has built the demo) and the e2e tier's server: the
 * built demo and the bootstrap relay on one port, configured by the environment (PORT,
 * HOST, STATIC_ROOT, RELAY_SOCKETS_PER_ADDRESS) as `macula-web demo` is.
 */
import { parseArgs, USAGE } from '../cli/args.js';
import { serve } from '../cli/serve.js';

const args = parseArgs(['demo'], process.env);
if (args.command === 'help' || args.command === 'version') console.log(USAGE);
else await serve(args);
