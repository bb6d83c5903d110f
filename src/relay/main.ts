/**
 * Standalone relay from a clone: `tsx src/relay/main.ts [--port N] [--host H]` (or PORT,
 * HOST), as `npx macula-web relay` runs it from the package.
 */
import { parseArgs, USAGE } from '../cli/args.js';
import { serve } from '../cli/serve.js';

const args = parseArgs(['relay', ...process.argv.slice(2)], process.env);
if (args.command === 'help' || args.command === 'version') console.log(USAGE);
else await serve(args);
