import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { dataformRepository, type DataformRepository } from '../../dataform/repository.js';
import { inSync, repositoryDrift, writeRepository } from '../../dataform/write.js';
import { planRun } from '../../pipeline/plan.js';
import { CartlensError } from '../../util/errors.js';

export interface DataformOptions {
  config: string;
  /** Write the repository into this folder. */
  out?: string;
  /** Compare this folder (a committed repository) with what would be generated now. */
  check?: string;
}

export function dataformCommand(program: Command): void {
  program
    .command('dataform')
    .description('write (or check) the Dataform repository of a BigQuery config: the same models, staging SQL and blocking assertions as `run`')
    .requiredOption('-c, --config <file>', 'the config file (YAML)')
    .option('--out <dir>', 'the folder to write the repository into (replaces its definitions/ and includes/)')
    .option('--check <dir>', 'compare a generated repository with what would be generated now: exit 1 and list the files when they differ')
    .action(async (options: DataformOptions) => {
      process.exitCode = await dataform(options, process);
    });
}

/** Where the command writes: the process's streams, or a test's. */
export interface Output {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** `cartlens dataform`: writes or checks the repository; returns the exit code. */
export async function dataform(options: DataformOptions, output: Output): Promise<number> {
  if ((options.out === undefined) === (options.check === undefined)) throw new CartlensError('give either --out DIR (write the repository) or --check DIR (compare it)', 'e.g. cartlens dataform --config cartlens.yaml --out dataform');
  // The HMAC key is a Dataform compilation variable, never written: generating needs no secret.
  const plan = await planRun(await loadConfig(options.config, process.env, { withoutUserKeySecret: true }));
  const repository = dataformRepository(plan);
  if (options.check !== undefined) return check(repository, options.check, output);
  await writeRepository(repository, options.out!);
  const count = (...types: string[]) => repository.actions.filter((a) => types.includes(a.type)).length;
  output.stdout.write(
    `wrote ${repository.files.size} files to ${options.out}: ${count('declaration')} declarations, ${count('operations')} staging actions, ${count('table', 'incremental')} models, ${count('assertion')} SQL assertions (plus built-in ones)\n` +
      `compile: ${compileHint(repository)}\n`,
  );
  return 0;
}

async function check(repository: DataformRepository, dir: string, { stdout, stderr }: Output): Promise<number> {
  const drift = await repositoryDrift(repository, dir);
  if (inSync(drift)) {
    stdout.write(`${dir} is what \`cartlens dataform\` generates (${repository.files.size} files)\n`);
    return 0;
  }
  const lines = [...drift.differing.map((path) => `differs: ${path}`), ...drift.missing.map((path) => `missing: ${path}`), ...drift.extra.map((path) => `extra:   ${path}`)];
  stdout.write(`${lines.join('\n')}\n`);
  stderr.write(`error: ${lines.length} file(s) of ${dir} differ from what \`cartlens dataform\` generates now — regenerate with --out ${dir} and commit it\n`);
  return 1;
}

function compileHint(repository: DataformRepository): string {
  return repository.needsUserKeySecret ? 'dataform compile --vars=user_key_secret=...,run_date=YYYY-MM-DD (run_date defaults to yesterday)' : 'dataform compile --vars=run_date=YYYY-MM-DD (run_date defaults to yesterday)';
}
