import { Command, Option } from 'commander';
import { CartlensError } from '../util/errors.js';
import { quietMetadataLookupWarnings } from '../util/google-warnings.js';
import { dropOutputOnClosedPipes } from './closed-pipes.js';
import { runCommand } from './commands/run.js';
import { demoCommand } from './commands/demo.js';
import { validateCommand } from './commands/validate.js';
import { compileCommand } from './commands/compile.js';
import { iamCommand } from './commands/iam.js';
import { gcpCommand } from './commands/gcp.js';
import { planCommand } from './commands/plan.js';
import { devCommand } from './commands/dev.js';
import { reconcileCommand } from './commands/reconcile.js';
import { statusCommand } from './commands/status.js';
import { backfillCommand } from './commands/backfill.js';
import { scheduleCommand } from './commands/schedule.js';
import { serveCommand } from './commands/serve.js';
import { publishCommand } from './commands/publish.js';
import { extractCommand } from './commands/extract.js';
import { dataformCommand } from './commands/dataform.js';
import { rotateUserKeyCommand } from './commands/rotate-user-key.js';

// google-auth warns off Google Cloud that it found no metadata server; cartlens reports the real problem.
quietMetadataLookupWarnings();
// A reader that stops early (`| head`) ends nothing: the command finishes with its own exit code.
dropOutputOnClosedPipes();

const program = new Command('cartlens')
  .description("Turns an online store's cart events into daily cart metrics published as CSV files.")
  .addOption(new Option('--verbose', 'show stack traces on errors'))
  .showHelpAfterError()
  .exitOverride();

runCommand(program);
extractCommand(program);
publishCommand(program);
dataformCommand(program);
demoCommand(program);
validateCommand(program);
compileCommand(program);
iamCommand(program);
gcpCommand(program);
planCommand(program);
devCommand(program);
reconcileCommand(program);
statusCommand(program);
backfillCommand(program);
scheduleCommand(program);
serveCommand(program);
rotateUserKeyCommand(program);

// The one place that ends the process: commands return an exit code or throw.
try {
  await program.parseAsync(process.argv);
  process.exitCode ??= 0;
} catch (error) {
  process.exitCode = reportError(error, program.opts<{ verbose?: boolean }>().verbose ?? process.argv.includes('--verbose'));
}

function reportError(error: unknown, verbose: boolean): number {
  const code = (error as { code?: string }).code;
  if (typeof code === 'string' && code.startsWith('commander.')) {
    // commander already printed the usage problem (or the help / version that was asked for).
    return code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help' ? 0 : 2;
  }
  if (error instanceof CartlensError) {
    process.stderr.write(`error: ${error.oneLine}\n`);
  } else {
    process.stderr.write(`error: ${(error as Error)?.message ?? String(error)}${verbose ? '' : ' (run with --verbose for details)'}\n`);
  }
  if (verbose && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  return 1;
}
