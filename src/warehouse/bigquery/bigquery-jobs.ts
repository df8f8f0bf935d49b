import type { BigQuery, Job, JobOptions } from '@google-cloud/bigquery';
import { accessError, CartlensError } from '../../util/errors.js';

/** The slice of the BigQuery SDK that cartlens calls, so tests can point the real client anywhere. */
export type BigQueryLike = Pick<BigQuery, 'createJob' | 'job'>;

/**
 * The most one query may bill unless the config says otherwise: 10 GiB, about US$0.06 at
 * on-demand prices. A day of GA4 export for a large store is well under 1 GiB with the
 * date-suffix filter; a query that would scan more fails before it runs, costing nothing.
 */
export const DEFAULT_MAXIMUM_BYTES_BILLED = 10 * 2 ** 30;
/** A job still running after this is cancelled by BigQuery. */
export const JOB_TIMEOUT_MS = 30 * 60 * 1000;

export interface QueryStep {
  runId: string;
  /** The step's name (a model, `load`, `export`…): part of the job id. */
  step: string;
  /** The date the step computes, when it computes one. */
  date?: string;
  sql: string;
  /** Named query parameters (the HMAC pads are passed this way, never as SQL text). */
  params?: Record<string, string | number | Buffer>;
  /** Replace one partition of a table with the query's rows: `table$YYYYMMDD`, WRITE_TRUNCATE. */
  replacePartition?: { projectId: string; datasetId: string; tableId: string; date: string };
}

export interface LoadStep {
  runId: string;
  step: string;
  date?: string;
  /** `gs://bucket/object` of each newline-delimited JSON file. */
  sourceUris: string[];
  destination: { projectId: string; datasetId: string; tableId: string };
}

/**
 * Runs query jobs with ids derived from (run, step, date, attempt). The client retries an insert
 * whose response was lost; BigQuery then answers 409 for the job it already created, and that
 * job is fetched and used instead of starting another: a step never runs twice.
 */
export class BigQueryJobs {
  private sessionId: string | undefined;

  /**
   * With `session`, the first job opens a BigQuery session and every later job joins it, so that
   * temporary tables and a transaction can span jobs.
   */
  constructor(
    private readonly bigquery: BigQueryLike,
    private readonly options: { location: string; maximumBytesBilled: number; session?: boolean },
  ) {}

  static jobId(step: Pick<QueryStep, 'runId' | 'step' | 'date'>, attempt: number): string {
    const raw = ['cartlens', step.runId, step.step, step.date?.replaceAll('-', '') ?? 'all', `a${attempt}`].join('_');
    return raw.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 1024);
  }

  /** Runs the step's query to completion and returns its rows. */
  async run(step: QueryStep, attempt = 1): Promise<Record<string, unknown>[]> {
    const jobId = BigQueryJobs.jobId(step, attempt);
    let job: Job;
    try {
      [job] = await this.bigquery.createJob(this.jobOptions(step, jobId, false));
    } catch (error) {
      if ((error as { code?: number }).code !== 409) throw classify(`job ${jobId}`, error);
      job = this.bigquery.job(jobId, { location: this.options.location });
      await job.getMetadata();
    }
    const session = (job.metadata?.statistics as { sessionInfo?: { sessionId?: string } } | undefined)?.sessionInfo?.sessionId;
    if (this.options.session && !this.sessionId && session) this.sessionId = session;
    try {
      const [rows] = await job.getQueryResults();
      if (this.options.session && !this.sessionId) {
        // The insert's answer may not carry the session yet; the finished job does.
        const [metadata] = await job.getMetadata();
        this.sessionId = (metadata.statistics as { sessionInfo?: { sessionId?: string } } | undefined)?.sessionInfo?.sessionId;
        if (!this.sessionId) throw new CartlensError(`job ${jobId} opened no session`, 'BigQuery did not return a session id: temporary tables and the transaction cannot span jobs');
      }
      return rows as Record<string, unknown>[];
    } catch (error) {
      throw error instanceof CartlensError ? error : classify(`job ${jobId}`, error);
    }
  }

  /**
   * Appends newline-delimited JSON files in Cloud Storage to a table with a load job (free, unlike
   * streaming inserts, and all or nothing), under a deterministic id: a lost answer is found
   * again, never loaded twice. Load jobs cannot join a session or a transaction.
   */
  async load(step: LoadStep, attempt = 1): Promise<void> {
    const jobId = BigQueryJobs.jobId(step, attempt);
    const options = {
      jobId,
      location: this.options.location,
      configuration: {
        jobTimeoutMs: String(JOB_TIMEOUT_MS),
        load: {
          sourceUris: step.sourceUris,
          sourceFormat: 'NEWLINE_DELIMITED_JSON',
          destinationTable: step.destination,
          writeDisposition: 'WRITE_APPEND',
          // The table and its schema come from prepareSchema; a load never reshapes it.
          createDisposition: 'CREATE_NEVER',
          ignoreUnknownValues: false,
        },
      },
    } as JobOptions;
    let job: Job;
    try {
      [job] = await this.bigquery.createJob(options);
    } catch (error) {
      if ((error as { code?: number }).code !== 409) throw classify(`load job ${jobId}`, error);
      job = this.bigquery.job(jobId, { location: this.options.location });
    }
    try {
      // A load job has no rows: wait for it to finish and surface its error.
      await job.promise();
    } catch (error) {
      throw classify(`load job ${jobId}`, error);
    }
  }

  /** The bytes the step's query would process, from a dry run (free, nothing runs). */
  async dryRun(step: QueryStep): Promise<number> {
    try {
      const [job] = await this.bigquery.createJob(this.jobOptions(step, BigQueryJobs.jobId(step, 0), true));
      const statistics = job.metadata?.statistics as { totalBytesProcessed?: string; query?: { totalBytesProcessed?: string } } | undefined;
      return Number(statistics?.query?.totalBytesProcessed ?? statistics?.totalBytesProcessed ?? 0);
    } catch (error) {
      throw classify(`dry run of ${step.step}`, error);
    }
  }

  private jobOptions(step: QueryStep, jobId: string, dryRun: boolean): JobOptions {
    const params = Object.entries(step.params ?? {});
    const partition = step.replacePartition;
    return {
      jobId,
      location: this.options.location,
      configuration: {
        dryRun,
        jobTimeoutMs: String(JOB_TIMEOUT_MS),
        query: {
          ...(this.options.session && !dryRun
            ? this.sessionId
              ? { connectionProperties: [{ key: 'session_id', value: this.sessionId }] }
              : { createSession: true }
            : {}),
          query: step.sql,
          useLegacySql: false,
          maximumBytesBilled: String(this.options.maximumBytesBilled),
          ...(params.length > 0
            ? {
                parameterMode: 'NAMED',
                queryParameters: params.map(([name, value]) => ({
                  name,
                  parameterType: { type: Buffer.isBuffer(value) ? 'BYTES' : typeof value === 'number' ? 'INT64' : 'STRING' },
                  parameterValue: { value: Buffer.isBuffer(value) ? value.toString('base64') : String(value) },
                })),
              }
            : {}),
          ...(partition
            ? {
                destinationTable: { projectId: partition.projectId, datasetId: partition.datasetId, tableId: `${partition.tableId}$${partition.date.replaceAll('-', '')}` },
                writeDisposition: 'WRITE_TRUNCATE',
                timePartitioning: { type: 'DAY', field: 'date' },
              }
            : {}),
        },
      },
    } as JobOptions;
  }
}

/** BigQuery's error reasons that trying again cannot fix, and those it can (cloud.google.com/bigquery/docs/error-messages). */
const TERMINAL_REASONS = new Set(['invalidQuery', 'invalid', 'notFound', 'accessDenied', 'duplicate', 'resourcesExceeded', 'responseTooLarge', 'billingNotEnabled']);
const TRANSIENT_REASONS = new Set(['backendError', 'rateLimitExceeded', 'internalError', 'jobBackendError', 'jobInternalError', 'jobRateLimitExceeded']);

/**
 * BigQuery's reason for an error, wherever the client put it: the HTTP error's `errors`, or the
 * job's status (`errors`, `errorResult`), which reaches cartlens without an HTTP status.
 */
function reasonOf(error: unknown): string | undefined {
  const e = error as { errors?: { reason?: string }[]; errorResult?: { reason?: string }; response?: { status?: { errorResult?: { reason?: string } } } };
  return e.errors?.find((x) => x.reason)?.reason ?? e.errorResult?.reason ?? e.response?.status?.errorResult?.reason;
}

/**
 * BigQuery errors as ours, by BigQuery's reason first: bad SQL, missing tables, permissions and
 * the cost guard are terminal; backend errors and rate limits are not (a rate limit comes as a
 * 403). Without a reason, by HTTP status: 5xx and 429 are transient. A network or credentials
 * failure says so (accessError) rather than blaming the SQL.
 */
function classify(what: string, error: unknown): CartlensError {
  const access = accessError(what, error);
  if (access) return access;
  const code = (error as { code?: number }).code;
  const reason = reasonOf(error);
  const message = ((error as Error).message ?? String(error)).split('\n')[0]!;
  if (/bytes billed|maximumBytesBilled|exceeded limit for bytes/i.test(message)) {
    return new CartlensError(`${what} would bill more than the cost guard allows: ${message}`, 'check the date filter, or raise warehouse.maximum_bytes_billed on purpose', false, { cause: error });
  }
  const status = [code, reason].filter((part) => part !== undefined && part !== '').join(' ');
  if (reason === 'accessDenied' || ((code === 401 || code === 403) && !TRANSIENT_REASONS.has(reason ?? ''))) {
    return new CartlensError(`${what} was refused (${status}): ${message}`, "grant the pipeline's service account roles/bigquery.jobUser and dataEditor on its datasets (deploy/iam.yaml)", false, { cause: error });
  }
  // A code that is not an HTTP status (a client-side failure) is not the SQL's fault either.
  const byStatus = typeof code !== 'number' || code === 429 || code >= 500;
  const transient = reason && (TERMINAL_REASONS.has(reason) || TRANSIENT_REASONS.has(reason)) ? TRANSIENT_REASONS.has(reason) : byStatus;
  return new CartlensError(`${what} failed${status ? ` (${status})` : ''}: ${message}`, transient ? 'a temporary BigQuery problem: run again' : 'the SQL or the tables it reads are wrong: see `cartlens compile`', transient, { cause: error });
}
