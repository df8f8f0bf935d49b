// The REST slice of BigQuery (v2) that the real @google-cloud/bigquery client uses for cartlens,
// over the local BigQuery: jobs.insert (query, dry run, load from Cloud Storage), jobs.get,
// jobs.getQueryResults with paging, jobs.query, datasets, tables and table data. Jobs run when
// they are inserted and are answered DONE; a failure is in the job's status (errorResult with
// BigQuery's reason) and, for getQueryResults and jobs.query, in an HTTP error of that reason.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BigQueryError, REASON_STATUS, asBigQueryError, type JobContext, type Reason, type StatementResult } from './bigquery-tables.js';
import type { LocalBigQuery } from './local-bigquery.js';
import type { LocalStorage } from './local-storage.js';
import { readNdjson, skippedSummary } from './ndjson.js';
import { restField, typeOfRestName, type Column, type RestField, type TypeProto } from './types.js';
import { fromParameter, isNull, toRest, NULL, type Value } from './values.js';
import type { Parameter } from './zetasql-engine.js';

interface Job {
  resource: Record<string, unknown>;
  result?: StatementResult;
  error?: BigQueryError;
}

interface QueryConfiguration {
  query?: string;
  useLegacySql?: boolean;
  createSession?: boolean;
  connectionProperties?: { key: string; value: string }[];
  parameterMode?: string;
  queryParameters?: { name?: string; parameterType: { type: string; arrayType?: unknown; structTypes?: unknown }; parameterValue?: { value?: string } }[];
  destinationTable?: unknown;
  defaultDataset?: { projectId?: string; datasetId: string };
}

interface LoadConfiguration {
  sourceUris: string[];
  sourceFormat?: string;
  destinationTable: { projectId?: string; datasetId: string; tableId: string };
  writeDisposition?: string;
  createDisposition?: string;
  schema?: { fields: RestField[] };
  ignoreUnknownValues?: boolean;
}

const GRPC_STATUS: Record<number, string> = { 400: 'INVALID_ARGUMENT', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 409: 'ALREADY_EXISTS', 500: 'INTERNAL' };
/** Rows in a page of query results when the client asks for no size. */
const DEFAULT_PAGE_ROWS = 10_000;

export class BigQueryApi {
  readonly jobs = new Map<string, Job>();

  constructor(
    private readonly bigquery: LocalBigQuery,
    private readonly storage: LocalStorage,
  ) {}

  /** Handles a request under `/bigquery/v2`; false for any other path. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname.replace(/^\/bigquery\/v2(?=\/)/, '');
    if (path === url.pathname) return false;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const reply = (status: number, json: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
      res.end(JSON.stringify(json));
    };
    try {
      const body = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
      const answer = await this.route(req.method ?? 'GET', path.split('/').slice(1).map(decodeURIComponent), url.searchParams, body);
      reply(answer.status ?? 200, answer.json);
    } catch (error) {
      const failure = error instanceof SyntaxError ? new BigQueryError('invalid', `the request body is not JSON: ${error.message}`) : asBigQueryError(error, this.bigquery.location);
      reply(REASON_STATUS[failure.reason], errorBody(failure));
    }
    return true;
  }

  private async route(method: string, parts: string[], query: URLSearchParams, body: Record<string, unknown>): Promise<{ status?: number; json: unknown }> {
    const [projects, project, collection, id, sub, subId, rest] = parts;
    if (projects !== 'projects' || !project) throw new BigQueryError('notFound', `the local BigQuery does not serve /${parts.join('/')}`);
    if (collection === 'jobs' && !id && method === 'POST') return this.insertJob(project, body);
    if (collection === 'jobs' && id && !sub && method === 'GET') return { json: this.job(project, id).resource };
    if (collection === 'jobs' && id && sub === 'cancel' && method === 'POST') return { json: { kind: 'bigquery#jobCancelResponse', job: this.job(project, id).resource } };
    if (collection === 'queries' && id && method === 'GET') return { json: this.queryResults(this.job(project, id), query) };
    if (collection === 'queries' && !id && method === 'POST') return { json: await this.jobsQuery(project, body) };
    if (collection === 'datasets') {
      if (!id && method === 'POST') return { json: this.insertDataset(project, body) };
      if (!id && method === 'GET') return { json: { kind: 'bigquery#datasetList', datasets: [...this.bigquery.datasets.values()].filter((d) => d.project === project).map((d) => this.datasetResource(d.project, d.dataset)) } };
      if (id && !sub && method === 'GET') return { json: this.datasetResource(project, id) };
      if (id && !sub && method === 'DELETE') return this.deleteDataset(project, id, query.get('deleteContents') === 'true');
      if (id && sub === 'tables') return this.tables(method, project, id, subId, rest, query);
    }
    throw new BigQueryError('notFound', `the local BigQuery does not implement ${method} /${parts.join('/')}`);
  }

  // ---- jobs --------------------------------------------------------------------------------

  private job(project: string, id: string): Job {
    const job = this.jobs.get(`${project}:${id}`);
    if (!job) throw new BigQueryError('notFound', `Not found: Job ${project}:${id}`);
    return job;
  }

  private async insertJob(project: string, body: Record<string, unknown>): Promise<{ status?: number; json: unknown }> {
    const reference = { projectId: project, jobId: randomUUID(), location: this.bigquery.location, ...(body.jobReference as object) } as { projectId: string; jobId: string; location: string };
    const configuration = (body.configuration ?? {}) as { query?: QueryConfiguration; load?: LoadConfiguration; dryRun?: boolean };
    const key = `${reference.projectId}:${reference.jobId}`;
    if (configuration.dryRun) return { json: await this.dryRunJob(reference, configuration) };
    if (this.jobs.has(key)) throw new BigQueryError('duplicate', `Already Exists: Job ${reference.projectId}:${reference.location}.${reference.jobId}`);
    const created = Date.now();
    const job: Job = { resource: {} };
    // The id is taken before the job runs: an insert retried meanwhile gets 409, as on BigQuery.
    this.jobs.set(key, job);
    let session: string | undefined;
    try {
      if (configuration.query) {
        const context = this.contextOf(reference.projectId, configuration.query);
        session = context.session?.id;
        job.result = await this.bigquery.runScript(String(configuration.query.query ?? ''), context);
      } else if (configuration.load) {
        job.result = await this.load(reference.projectId, configuration.load);
      } else throw new BigQueryError('invalid', 'the local BigQuery runs query and load jobs only');
    } catch (error) {
      job.error = asBigQueryError(error, this.bigquery.location);
    }
    job.resource = {
      kind: 'bigquery#job',
      id: `${reference.projectId}:${reference.location}.${reference.jobId}`,
      jobReference: reference,
      configuration: { ...configuration, jobType: configuration.load ? 'LOAD' : 'QUERY' },
      status: { state: 'DONE', ...(job.error ? { errorResult: errorOf(job.error), errors: [errorOf(job.error)] } : {}) },
      statistics: {
        creationTime: String(created),
        startTime: String(created),
        endTime: String(Date.now()),
        ...(configuration.query
          ? {
              totalBytesProcessed: '0',
              query: { totalBytesProcessed: '0', totalBytesBilled: '0', cacheHit: false, ...(job.result ? { statementType: job.result.statementType } : {}), ...dmlStatistics(job.result) },
            }
          : { load: { outputRows: String(job.result?.affectedRows ?? 0) } }),
        ...(session ? { sessionInfo: { sessionId: session } } : {}),
      },
    };
    return { json: job.resource };
  }

  /** A job's context: its session (opened by createSession, joined by connectionProperties) and parameters. */
  private contextOf(project: string, query: QueryConfiguration): JobContext {
    if (query.useLegacySql === true) throw new BigQueryError('invalidQuery', 'the local BigQuery runs GoogleSQL only (useLegacySql: false)');
    if (query.destinationTable) throw new BigQueryError('invalidQuery', 'the local BigQuery does not write query results to a destinationTable: use INSERT or CREATE TABLE … AS');
    const sessionId = query.connectionProperties?.find((p) => p.key === 'session_id')?.value;
    const session = query.createSession ? this.bigquery.openSession(project) : sessionId ? this.bigquery.session(sessionId) : undefined;
    return { project, ...(session ? { session } : {}), parameters: (query.queryParameters ?? []).map(parameterOf) };
  }

  private async dryRunJob(reference: { projectId: string; jobId: string; location: string }, configuration: { query?: QueryConfiguration }): Promise<unknown> {
    if (!configuration.query) throw new BigQueryError('invalid', 'the local BigQuery dry-runs queries only');
    const bytes = String(await this.bigquery.dryRun(String(configuration.query.query ?? ''), this.contextOf(reference.projectId, { ...configuration.query, createSession: false })));
    return {
      kind: 'bigquery#job',
      jobReference: reference,
      configuration: { ...configuration, dryRun: true },
      status: { state: 'DONE' },
      // An estimate from the whole tables the statements name: BigQuery's own word for a bound.
      statistics: { totalBytesProcessed: bytes, query: { totalBytesProcessed: bytes, totalBytesProcessedAccuracy: 'UPPER_BOUND', totalBytesBilled: '0' } },
    };
  }

  private queryResults(job: Job, query: URLSearchParams): unknown {
    if (job.error) throw job.error;
    const result = job.result!;
    const start = Number(query.get('pageToken') ?? query.get('startIndex') ?? 0);
    const size = Number(query.get('maxResults') ?? DEFAULT_PAGE_ROWS);
    const page = result.rows.slice(start, start + size);
    const int64Timestamps = query.get('formatOptions.useInt64Timestamp') === 'true';
    return {
      kind: 'bigquery#getQueryResultsResponse',
      jobReference: (job.resource as { jobReference: unknown }).jobReference,
      jobComplete: true,
      cacheHit: false,
      totalBytesProcessed: '0',
      ...(result.columns.length > 0 ? { schema: { fields: result.columns.map((c) => restField(c.name, c.type)) } } : {}),
      totalRows: String(result.rows.length),
      ...(page.length > 0 ? { rows: restRows(page, result.columns, int64Timestamps) } : {}),
      ...(start + size < result.rows.length ? { pageToken: String(start + size) } : {}),
      ...(result.affectedRows !== undefined && result.columns.length === 0 ? { numDmlAffectedRows: String(result.affectedRows) } : {}),
    };
  }

  /** jobs.query: a job run at once, answered with its first page. */
  private async jobsQuery(project: string, body: Record<string, unknown>): Promise<unknown> {
    const request = body as QueryConfiguration & { requestId?: string; maxResults?: number; dryRun?: boolean; location?: string; formatOptions?: { useInt64Timestamp?: boolean } };
    const jobId = `job_${randomUUID().replaceAll('-', '')}`;
    const inserted = (await this.insertJob(project, { jobReference: { projectId: project, jobId, location: request.location ?? this.bigquery.location }, configuration: { query: request, dryRun: request.dryRun === true } })).json as {
      statistics?: { sessionInfo?: unknown };
    };
    if (request.dryRun) return { kind: 'bigquery#queryResponse', jobComplete: true, ...inserted };
    const job = this.job(project, jobId);
    const page = this.queryResults(job, new URLSearchParams({ ...(request.maxResults ? { maxResults: String(request.maxResults) } : {}), 'formatOptions.useInt64Timestamp': String(request.formatOptions?.useInt64Timestamp === true) })) as Record<string, unknown>;
    return { ...page, kind: 'bigquery#queryResponse', ...(inserted.statistics?.sessionInfo ? { sessionInfo: inserted.statistics.sessionInfo } : {}) };
  }

  /** A load job: newline-delimited JSON objects of the local Cloud Storage appended to a table, all or nothing. */
  private load(project: string, load: LoadConfiguration): Promise<StatementResult> {
    return this.bigquery.exclusive(async () => {
      if ((load.sourceFormat ?? 'CSV') !== 'NEWLINE_DELIMITED_JSON') throw new BigQueryError('invalid', `the local BigQuery loads NEWLINE_DELIMITED_JSON only, not ${load.sourceFormat ?? 'CSV'}`);
      const destination = load.destinationTable;
      const key = `${destination.projectId ?? project}.${destination.datasetId}.${destination.tableId}`;
      let table = this.bigquery.tables.get(key);
      if (!table) {
        if (load.createDisposition === 'CREATE_NEVER' || !load.schema) throw new BigQueryError('notFound', `Not found: Table ${key} was not found in location ${this.bigquery.location}`);
        table = this.bigquery.putTable(destination.projectId ?? project, destination.datasetId, destination.tableId, load.schema.fields.map(columnOf), []);
      }
      const rows: Value[][] = [];
      for (const uri of load.sourceUris) {
        const match = /^gs:\/\/([^/]+)\/(.+)$/.exec(uri);
        const objects = match ? this.matchingObjects(match[1]!, match[2]!) : [];
        if (objects.length === 0) throw new BigQueryError('notFound', `Not found: URI ${uri}`);
        for (const [name, data] of objects) {
          const read = readNdjson(data.toString('utf8'), table.columns, { ignoreUnknownValues: load.ignoreUnknownValues === true });
          if (read.skipped.length > 0) {
            throw new BigQueryError('invalid', `Error while reading data, error message: JSON table encountered too many errors, giving up. Rows: ${read.skipped.length}; errors: 1. gs://${match![1]}/${name}: ${skippedSummary(read.skipped)}`);
          }
          rows.push(...read.rows);
        }
      }
      if (load.writeDisposition === 'WRITE_EMPTY' && table.rows.length > 0) throw new BigQueryError('duplicate', `Already Exists: Table ${key} is not empty (WRITE_EMPTY)`);
      if (load.writeDisposition === 'WRITE_TRUNCATE') this.bigquery.tables.set(key, { ...table, rows: [] });
      this.bigquery.appendRows(key, rows);
      return { statementType: 'LOAD', columns: [], rows: [], affectedRows: rows.length };
    });
  }

  /** `gs://bucket/name`, or every object under a `prefix*` wildcard. */
  private matchingObjects(bucket: string, pattern: string): [string, Buffer][] {
    if (!pattern.endsWith('*')) {
      const object = this.storage.object(bucket, pattern);
      return object ? [[pattern, object.data]] : [];
    }
    const prefix = pattern.slice(0, -1);
    return [...this.storage.objectsOf(bucket).entries()].filter(([name]) => name.startsWith(prefix)).sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, object]) => [name, object.data]);
  }

  // ---- datasets and tables -----------------------------------------------------------------

  private insertDataset(project: string, body: Record<string, unknown>): unknown {
    const reference = body.datasetReference as { projectId?: string; datasetId: string };
    if (!reference?.datasetId) throw new BigQueryError('invalid', 'a dataset needs datasetReference.datasetId');
    if (this.bigquery.datasets.has(`${project}.${reference.datasetId}`)) throw new BigQueryError('duplicate', `Already Exists: Dataset ${project}:${reference.datasetId}`);
    this.bigquery.createDataset(project, reference.datasetId, String(body.location ?? this.bigquery.location));
    return this.datasetResource(project, reference.datasetId);
  }

  private datasetResource(project: string, dataset: string): unknown {
    const found = this.bigquery.datasets.get(`${project}.${dataset}`);
    if (!found) throw new BigQueryError('notFound', `Not found: Dataset ${project}:${dataset}`);
    return {
      kind: 'bigquery#dataset',
      id: `${project}:${dataset}`,
      datasetReference: { projectId: project, datasetId: dataset },
      location: found.location,
      creationTime: String(found.created),
      lastModifiedTime: String(found.created),
    };
  }

  private deleteDataset(project: string, dataset: string, deleteContents: boolean): { status: number; json: unknown } {
    this.datasetResource(project, dataset);
    const tables = [...this.bigquery.tables.keys()].filter((key) => key.startsWith(`${project}.${dataset}.`));
    if (tables.length > 0 && !deleteContents) throw new BigQueryError('invalid', `Dataset ${project}:${dataset} is still in use`);
    for (const key of tables) this.bigquery.tables.delete(key);
    this.bigquery.datasets.delete(`${project}.${dataset}`);
    return { status: 204, json: {} };
  }

  private tables(method: string, project: string, dataset: string, table: string | undefined, rest: string | undefined, query: URLSearchParams): { status?: number; json: unknown } {
    const prefix = `${project}.${dataset}.`;
    if (!table && method === 'GET') {
      this.datasetResource(project, dataset);
      const names = [...this.bigquery.tables.keys()].filter((key) => key.startsWith(prefix)).map((key) => key.slice(prefix.length)).sort();
      return { json: { kind: 'bigquery#tableList', tables: names.map((name) => ({ kind: 'bigquery#table', id: `${project}:${dataset}.${name}`, tableReference: { projectId: project, datasetId: dataset, tableId: name }, type: 'TABLE' })), totalItems: names.length } };
    }
    const found = table ? this.bigquery.tables.get(`${prefix}${table}`) : undefined;
    if (!table || !found) throw new BigQueryError('notFound', `Not found: Table ${project}:${dataset}.${table}`);
    if (method === 'DELETE' && !rest) {
      this.bigquery.tables.delete(`${prefix}${table}`);
      return { status: 204, json: {} };
    }
    if (method === 'GET' && rest === 'data') {
      const start = Number(query.get('pageToken') ?? query.get('startIndex') ?? 0);
      const size = Number(query.get('maxResults') ?? DEFAULT_PAGE_ROWS);
      const page = found.rows.slice(start, start + size) as Value[][];
      const int64Timestamps = query.get('formatOptions.useInt64Timestamp') === 'true';
      return {
        json: {
          kind: 'bigquery#tableDataList',
          totalRows: String(found.rows.length),
          rows: restRows(page, found.columns, int64Timestamps),
          ...(start + size < found.rows.length ? { pageToken: String(start + size) } : {}),
        },
      };
    }
    if (method === 'GET' && !rest) {
      return {
        json: {
          kind: 'bigquery#table',
          id: `${project}:${dataset}.${table}`,
          tableReference: { projectId: project, datasetId: dataset, tableId: table },
          type: 'TABLE',
          schema: { fields: found.columns.map((c) => restField(c.name, c.type, c.required)) },
          numRows: String(found.rows.length),
          creationTime: String(found.created),
          lastModifiedTime: String(found.modified),
          location: this.bigquery.location,
        },
      };
    }
    throw new BigQueryError('notFound', `the local BigQuery does not implement ${method} on tables/${table}${rest ? `/${rest}` : ''}`);
  }
}

function restRows(rows: Value[][], columns: { type: TypeProto }[], int64Timestamps: boolean): { f: { v: unknown }[] }[] {
  return rows.map((row) => ({ f: columns.map((column, i) => ({ v: toRest(row[i] ?? NULL, column.type, int64Timestamps) })) }));
}

function dmlStatistics(result: StatementResult | undefined): Record<string, unknown> {
  return result?.affectedRows !== undefined && result.columns.length === 0 ? { numDmlAffectedRows: String(result.affectedRows) } : {};
}

function errorOf(error: BigQueryError): { reason: Reason; location?: string; message: string } {
  return { reason: error.reason, ...(error.reason === 'invalidQuery' ? { location: 'query' } : {}), message: error.message };
}

/** BigQuery's HTTP error body: the status, the message, and the error list with each reason. */
function errorBody(error: BigQueryError): unknown {
  const code = REASON_STATUS[error.reason];
  return { error: { code, message: error.message, errors: [{ ...errorOf(error), domain: 'global' }], status: GRPC_STATUS[code] ?? 'UNKNOWN' } };
}

function columnOf(field: RestField): Column {
  const element: TypeProto = field.type === 'RECORD' || field.type === 'STRUCT' ? { typeKind: 'TYPE_STRUCT', structType: { field: (field.fields ?? []).map((f) => ({ fieldName: f.name, fieldType: columnOf(f).type })) } } : typeOfRestName(field.type);
  const type = field.mode === 'REPEATED' ? { typeKind: 'TYPE_ARRAY', arrayType: { elementType: element } } : element;
  return { name: field.name, type, required: field.mode === 'REQUIRED' };
}

/** A named query parameter of a scalar type, as the REST API carries it. */
function parameterOf(parameter: NonNullable<QueryConfiguration['queryParameters']>[number]): Parameter {
  if (!parameter.name) throw new BigQueryError('invalidQuery', 'the local BigQuery takes named query parameters only');
  if (parameter.parameterType.arrayType || parameter.parameterType.structTypes) throw new BigQueryError('invalidQuery', `the local BigQuery takes scalar query parameters only (@${parameter.name})`);
  const type = typeOfRestName(parameter.parameterType.type);
  const value = fromParameter(parameter.parameterValue?.value, type, parameter.name);
  return { name: parameter.name, type, value: isNull(value) ? NULL : value };
}
