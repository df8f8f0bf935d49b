// The local Google Cloud of `cartlens dev gcp` (src/dev/gcp/) for tests that check what BigQuery
// computes: ZetaSQL's reference engine runs every statement, so a wrong answer fails the test.
// Beside it, the jobs as the real client inserted them (dry runs included), for the tests that
// check a run's wiring; each needs the engine (describeWithZetaSql / itWithZetaSql).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { Readable } from 'node:stream';
import { DuckDBInstance } from '@duckdb/node-api';
import { LocalGcp, type LocalGcpOptions } from '../../src/dev/gcp/local-gcp.js';
import type { StoredObject } from '../../src/dev/gcp/local-storage.js';
import { T, type TypeProto } from '../../src/dev/gcp/types.js';
import { fromJson, toJson } from '../../src/dev/gcp/values.js';
import type { FakeJob } from './fake-bigquery.js';

export class RecordingGcp {
  /** Every job inserted, in order, as the client sent it (query, load and dry-run jobs). */
  readonly inserts: FakeJob[] = [];
  endpoint = '';
  private server: Server | undefined;
  private failNext: number | undefined;

  private constructor(readonly gcp: LocalGcp) {}

  /** Starts the engine, loads `exportFiles` (a glob of events_YYYYMMDD.json[.gz]) and listens. */
  static async start(options: LocalGcpOptions & { exportFiles?: string }): Promise<RecordingGcp> {
    const gcp = await LocalGcp.create(options);
    if (options.exportFiles) await gcp.loadExportFiles(options.exportFiles);
    const recording = new RecordingGcp(gcp);
    recording.endpoint = await recording.listen();
    return recording;
  }

  /** The SQL of each job inserted from `from` on (load jobs as `(load)`). */
  sqls(from = 0): string[] {
    return this.inserts.slice(from).map((job) => String(job.configuration.query?.query ?? '(load)'));
  }

  /** Rows of a query run on the local BigQuery directly, each value as TO_JSON_STRING writes it (INT64 and NUMERIC as text). */
  async query(sql: string): Promise<Record<string, unknown>[]> {
    const result = await this.gcp.bigquery.runScript(sql, { project: this.gcp.options.project, parameters: [] });
    return result.rows.map((row) => Object.fromEntries(result.columns.map((c, i) => [c.name, toJson(row[i]!, c.type)])));
  }

  /**
   * Puts every table of a DuckDB warehouse file into each of `datasets` of the project, typed as
   * BigQuery types them (replacing what was there: a new version, as a later run's would be).
   */
  async copyDuckDbTables(path: string, datasets: string[]): Promise<void> {
    const instance = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
    const connection = await instance.connect();
    try {
      const tables = (await connection.runAndReadAll('SELECT table_name FROM duckdb_tables() ORDER BY 1')).getRowsJson().flat() as string[];
      for (const table of tables) {
        const reader = await connection.runAndReadAll(`SELECT * FROM "${table}"`);
        const columns = reader.columnNames().map((name, i) => ({ name, type: bigQueryType(reader.columnTypes()[i]!.toString()), required: false }));
        const rows = reader.getRowsJson().map((row) => row.map((value, i) => fromJson(value, columns[i]!.type, `${table}.${columns[i]!.name}`)));
        for (const dataset of datasets) this.gcp.bigquery.putTable(this.gcp.options.project, dataset, table, columns, rows);
      }
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  }

  /** The next job insert is refused with `status` (BigQuery refusing, e.g. 403). */
  refuseNextJob(status: number): void {
    this.failNext = status;
  }

  /** A bucket's objects by name. */
  objects(bucket: string): Map<string, StoredObject> {
    return this.gcp.storage.objectsOf(bucket);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
    await this.gcp.stop();
  }

  /** LocalGcp.listen's server, with each BigQuery job insert recorded before it is handled. */
  private async listen(): Promise<string> {
    this.server = createServer((req, res) => {
      void (async () => {
        let request = req;
        if (req.url?.startsWith('/bigquery/v2/')) {
          const chunks: Buffer[] = [];
          for await (const chunk of req) chunks.push(chunk as Buffer);
          const body = Buffer.concat(chunks);
          if (req.method === 'POST' && /^\/bigquery\/v2\/projects\/[^/]+\/jobs(\?|$)/.test(req.url)) {
            this.inserts.push(JSON.parse(body.toString('utf8')) as FakeJob);
            const status = this.failNext;
            if (status !== undefined) {
              this.failNext = undefined;
              res.writeHead(status, { 'content-type': 'application/json' });
              res.end(JSON.stringify({ error: { code: status, message: `refused with ${status} by the test` } }));
              return;
            }
          }
          request = Object.assign(Readable.from([body]), { method: req.method, url: req.url, headers: req.headers }) as unknown as IncomingMessage;
        }
        if (await this.gcp.api.handle(request, res)) return;
        if (await this.gcp.storage.handle(req, res)) return;
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 404, message: `not served: ${req.url}` } }));
      })().catch((error: Error) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 500, message: error.message } }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }
}

/** The session a recorded job joined, or 'opens' for the job that opened one (undefined: none). */
export function sessionOf(job: FakeJob): string | undefined {
  const query = job.configuration.query as { createSession?: boolean; connectionProperties?: { key: string; value: string }[] } | undefined;
  return query?.createSession ? 'opens' : query?.connectionProperties?.find((p) => p.key === 'session_id')?.value;
}

/** BigQuery's type of a DuckDB column type, as cartlens' BigQuery tables have it. */
function bigQueryType(duckdbType: string): TypeProto {
  if (duckdbType === 'DATE') return T.date;
  if (duckdbType === 'BOOLEAN') return T.bool;
  if (duckdbType.startsWith('TIMESTAMP')) return T.timestamp;
  if (/INT/.test(duckdbType)) return T.int64;
  if (duckdbType.startsWith('DECIMAL')) return T.numeric;
  if (duckdbType === 'DOUBLE' || duckdbType === 'FLOAT') return T.float64;
  return T.string;
}
