/**
 * `npx macula-web relay|demo`: the package's command line (compiled to dist/node/cli.js;
 * from a clone, `tsx src/cli/main.ts`). See USAGE in args.ts.
 */
import { version } from '../../package.json';
import { parseArgs, USAGE, UsageError, type CliArgs } from './args.js';
import { serve } from './serve.js';

let args: CliArgs;
try {
  args = parseArgs(process.argv.slice(2), process.env);
} catch (e) {
  if (!(e instanceof UsageError)) throw e;
  console.error(`macula-web: ${e.message}\nRun \`macula-web --help\` for usage.`);
  process.exit(2);
}
if (args.command === 'help') console.log(USAGE);
else if (args.command === 'version') console.log(version);
else {
  await serve(args).catch((e: unknown) => {
    console.error(`macula-web: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
