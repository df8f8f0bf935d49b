import { readFileSync } from 'node:fs';
import { http, type Request, type Response } from '@google-cloud/functions-framework';
import { loadConfig } from '../../config/load.js';
import { datesFromOptions } from '../../util/dates.js';
import { outcomeOf } from '../../pipeline/outcome.js';
import { runPipeline } from '../../pipeline/run.js';
import { type RunProgress } from '../../pipeline/progress.js';
import { CartlensError, ConfigError } from '../../util/errors.js';

/** The entry point's name, as `gcloud functions deploy --entry-point` and the tests know it. */
export const FUNCTION_NAME = 'cartlensDaily';

/**
 * The daily job as an HTTP function for Cloud Run functions, invoked by Cloud Scheduler with an
 * OIDC token (the service is deployed without unauthenticated access, so only callers granted
 * roles/run.invoker reach this code). It runs what `cartlens run --due` runs with the config at
 * $CARTLENS_CONFIG (a JSON body or query may name `date`, or `from` and `to`, instead), and answers
 * as the CLI's exit code says (pipeline/outcome.ts): the run report with 200 when all is well, 500
 * when a date was withheld or has no events, 503 when trying again can help (Scheduler retries).
 * $CARTLENS_MODE=publish or extract deploys it as `cartlens publish` or `cartlens extract` (Dataform
 * builds the tables between the two); in extract mode a day not ready yet answers 503 with the report.
 */
export async function handleDaily(req: Request, res: Response): Promise<void> {
  if (req.method !== 'POST') {
    res.status(405).set('Allow', 'POST').json({ error: 'use POST' });
    return;
  }
  const started = Date.now();
  try {
    refuseKeyFileWhenDeployed(process.env);
    const options = { ...(req.query as Record<string, string>), ...(typeof req.body === 'object' && req.body ? (req.body as Record<string, string>) : {}) };
    const dates = datesFromOptions({ date: options.date, from: options.from, to: options.to });
    // Without dates, the due dates — the same logic as `cartlens run --due` and `cartlens schedule`.
    // CARTLENS_MODE=publish: Dataform built the tables; the function only checks and publishes them.
    // CARTLENS_MODE=extract: the function only loads the raw data Dataform builds on (BigQuery), and
    // never reads the user_key secret (it needs none).
    const mode = functionMode(process.env.CARTLENS_MODE);
    const loaded = await loadConfig(process.env.CARTLENS_CONFIG ?? 'cartlens.yaml', process.env, { withoutUserKeySecret: mode === 'extract' });
    const report = await runPipeline({ loaded, ...(dates ? { dates } : { due: true }), mode, progress: cloudLogging() });
    // A quota deferral is not an error: Scheduler must not retry into a spent quota; the next day's
    // call fetches exactly the deferred dates (run_state). Missing input is an error (500).
    if (report.deferred_dates.length > 0) log('INFO', `${report.deferred_dates[0]!.reason}: ${report.deferred_dates.map((d) => d.date).join(', ')} deferred to the next run`, { run_id: report.run_id });
    // The same outcome as the CLI's exit code: a withheld date is a failure here too (500), and a
    // day not ready when extracting is GA4's export still to come (503, so the caller tries again).
    const outcome = outcomeOf(report, { named: dates !== undefined, mode });
    log(outcome.exitCode === 0 ? 'INFO' : 'ERROR', outcome.exitCode === 0 ? `${mode} complete` : outcome.problems.join('; '), { run_id: report.run_id, seconds: (Date.now() - started) / 1000 });
    res.status(outcome.httpStatus).json(report);
  } catch (error) {
    const known = error instanceof CartlensError ? error : undefined;
    log('ERROR', known ? known.oneLine : (error as Error).message, { transient: known?.transient ?? false });
    res.status(known?.transient ? 503 : 500).json({ error: known ? known.oneLine : 'internal error: see the function logs', transient: known?.transient ?? false });
  }
}

/**
 * Deployed, the function runs as its own service account (deploy/iam.yaml) through Application
 * Default Credentials; a service-account key file shipped with it is a long-lived secret that can
 * leak and outlives any revocation of the account's roles. Cloud Run, and so Cloud Run functions,
 * sets K_SERVICE in every instance, and nothing else does: that is how "deployed" is told.
 */
export function refuseKeyFileWhenDeployed(env: NodeJS.ProcessEnv): void {
  const keyFile = env.GOOGLE_APPLICATION_CREDENTIALS;
  if (!env.K_SERVICE || !keyFile) return;
  let credentials: { type?: unknown; private_key?: unknown } | undefined;
  try {
    credentials = JSON.parse(readFileSync(keyFile, 'utf8')) as typeof credentials;
  } catch {
    return; // not a readable JSON key: google-auth reports it as a credentials error
  }
  if (credentials?.type === 'service_account' || credentials?.private_key !== undefined) {
    throw new ConfigError(
      `GOOGLE_APPLICATION_CREDENTIALS points to a service-account key file (${keyFile}) in the deployed function ${env.K_SERVICE}`,
      'remove the variable and the file from the deployment: the function runs as its own service account (deploy/iam.yaml), and the key should be deleted',
    );
  }
}

/** The run's mode from $CARTLENS_MODE: unset or `run`, `publish`, `extract`; anything else is refused (a typo must not run the full job). */
export function functionMode(value: string | undefined): 'run' | 'publish' | 'extract' {
  if (value === undefined || value === '') return 'run';
  if (value === 'run' || value === 'publish' || value === 'extract') return value;
  throw new ConfigError(`CARTLENS_MODE is ${JSON.stringify(value)}`, 'set it to run (the default), publish or extract, or leave it unset');
}

/** One JSON object per line on stdout: Cloud Logging reads `severity` and `message`. */
function log(severity: 'INFO' | 'ERROR', message: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ severity, message, component: 'cartlens', ...fields })}\n`);
}

function cloudLogging(): RunProgress {
  return { step: (message) => log('INFO', message), startBytes: (total, label) => log('INFO', label, { bytes: total }), addBytes() {}, endBytes() {} };
}

http(FUNCTION_NAME, handleDaily);
