// A scripted fake of the slice of BigQuery's REST API that cartlens uses (jobs.insert, jobs.get,
// jobs.getQueryResults), for the tests of faults the local BigQuery (src/dev/gcp/) cannot stage:
// a status on insert, a lost response, a dry run's byte count. It executes no SQL: each test
// names every answer, and a query it did not script fails that test (stop() throws), never
// answering "no rows". Tests that check numbers or a run's outcome use the local BigQuery.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface FakeJob {
  jobReference: { projectId: string; jobId: string; location?: string };
  configuration: Record<string, unknown> & { query?: Record<string, unknown>; dryRun?: boolean };
}

export interface QueryAnswer {
  fields: { name: string; type: string }[];
  rows: (string | null)[][];
  bytesProcessed: number;
}

/** A test's answers: undefined for a query it did not script. */
export type ScriptedAnswers = (sql: string, job: { session?: string }) => QueryAnswer | undefined | Promise<QueryAnswer | undefined>;

export type BigQueryFault = { kind: 'status'; status: number } | { kind: 'lose-response' };

export class FakeBigQuery {
  /** Jobs that really ran (dry runs excluded), by id. */
  readonly jobs = new Map<string, FakeJob>();
  readonly inserts: FakeJob[] = [];
  /** Datasets by id, as the REST API returns them. */
  readonly datasets = new Map<string, Record<string, unknown>>();
  /** The first line of each query no answer was scripted for: stop() fails the test with them. */
  readonly unexpected: string[] = [];
  private readonly faults: { fault: BigQueryFault; times: number }[] = [];
  private server: Server | undefined;

  /** `answers` gets each job's SQL, and the BigQuery session the job runs in, when it has one. */
  constructor(private readonly answers: ScriptedAnswers) {}

  /** The scripted answer, or an error naming the query (kept in `unexpected`, thrown again by stop()). */
  private async answer(sql: string, job: { session?: string }): Promise<QueryAnswer> {
    const answer = await this.answers(sql, job);
    if (answer) return answer;
    const firstLine = sql.trim().split('\n')[0]!;
    this.unexpected.push(firstLine);
    throw new Error(`the fake BigQuery has no scripted answer for: ${firstLine}`);
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  /** Stops, and fails the test that sent a query it did not script. */
  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
    if (this.unexpected.length > 0) throw new Error(`the fake BigQuery got queries the test did not script:\n${this.unexpected.join('\n')}`);
  }

  /** The next `times` job inserts fail with `fault` (`lose-response`: the job is created, the answer lost). */
  inject(fault: BigQueryFault, times = 1): void {
    this.faults.push({ fault, times });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const body = await new Promise<string>((resolve) => {
      let text = '';
      req.on('data', (chunk: Buffer) => (text += chunk.toString()));
      req.on('end', () => resolve(text));
    });
    const reply = (status: number, json: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    };
    const insert = /^\/bigquery\/v2\/projects\/([^/]+)\/jobs$/.exec(url.pathname);
    const get = /^\/bigquery\/v2\/projects\/([^/]+)\/jobs\/([^/]+)$/.exec(url.pathname);
    const results = /^\/bigquery\/v2\/projects\/([^/]+)\/queries\/([^/]+)$/.exec(url.pathname);
    const datasets = /^\/bigquery\/v2\/projects\/([^/]+)\/datasets(?:\/([^/]+))?$/.exec(url.pathname);
    if (datasets) {
      if (req.method === 'POST') {
        const resource = JSON.parse(body) as { datasetReference: { datasetId: string }; location?: string };
        if (this.datasets.has(resource.datasetReference.datasetId)) return reply(409, { error: { code: 409, message: 'Already Exists: Dataset' } });
        const created = { kind: 'bigquery#dataset', ...resource, location: resource.location ?? 'US' };
        this.datasets.set(resource.datasetReference.datasetId, created);
        return reply(200, created);
      }
      const dataset = datasets[2] ? this.datasets.get(datasets[2]) : undefined;
      return dataset ? reply(200, dataset) : reply(404, { error: { code: 404, message: 'Not found: Dataset' } });
    }
    if (req.method === 'POST' && insert) {
      const job = JSON.parse(body) as FakeJob;
      this.inserts.push(job);
      const armed = this.faults.find((f) => f.times > 0);
      if (armed) armed.times--;
      if (armed?.fault.kind === 'status') return reply(armed.fault.status, { error: { code: armed.fault.status, message: `injected ${armed.fault.status}` } });
      const sql = String(job.configuration.query?.query ?? '');
      if (job.configuration.dryRun) {
        let bytesProcessed: number;
        try {
          ({ bytesProcessed } = await this.answer(sql, {}));
        } catch (error) {
          return reply(400, { error: { code: 400, message: (error as Error).message } });
        }
        return reply(200, { ...job, status: { state: 'DONE' }, statistics: { totalBytesProcessed: String(bytesProcessed), query: { totalBytesProcessed: String(bytesProcessed) } } });
      }
      const id = job.jobReference.jobId;
      if (this.jobs.has(id)) return reply(409, { error: { code: 409, status: 'ALREADY_EXISTS', message: `Already Exists: Job ${job.jobReference.projectId}:${job.jobReference.location}.${id}` } });
      this.jobs.set(id, job);
      if (armed?.fault.kind === 'lose-response') {
        res.socket?.destroy(); // the job exists; the client never hears so
        return;
      }
      return reply(200, this.resource(job));
    }
    if (req.method === 'GET' && get) {
      const job = this.jobs.get(get[2]!);
      return job ? reply(200, this.resource(job)) : reply(404, { error: { code: 404, message: 'Not found: Job' } });
    }
    if (req.method === 'GET' && results) {
      const job = this.jobs.get(results[2]!);
      if (!job) return reply(404, { error: { code: 404, message: 'Not found: Job' } });
      let answer: QueryAnswer;
      try {
        const session = this.sessionOf(job);
        answer = await this.answer(String(job.configuration.query?.query ?? ''), session ? { session } : {});
      } catch (error) {
        // An answer that throws with a status (e.g. 404 "Not found: Table …") is BigQuery's error.
        const status = (error as { status?: number }).status ?? 400;
        return reply(status, { error: { code: status, message: (error as Error).message } });
      }
      return reply(200, {
        kind: 'bigquery#getQueryResultsResponse',
        jobReference: job.jobReference,
        jobComplete: true,
        totalRows: String(answer.rows.length),
        schema: { fields: answer.fields },
        rows: answer.rows.map((row) => ({ f: row.map((v) => ({ v })) })),
      });
    }
    reply(501, { error: { code: 501, message: `the fake does not implement ${req.method} ${url.pathname}` } });
  }

  /** The session a job opened or joined (createSession / connectionProperties). */
  sessionOf(job: FakeJob): string | undefined {
    const query = job.configuration.query as { createSession?: boolean; connectionProperties?: { key: string; value: string }[] } | undefined;
    if (query?.createSession) return `session-of-${job.jobReference.jobId}`;
    return query?.connectionProperties?.find((p) => p.key === 'session_id')?.value;
  }

  private resource(job: FakeJob) {
    const session = this.sessionOf(job);
    return {
      kind: 'bigquery#job',
      id: `${job.jobReference.projectId}:${job.jobReference.location}.${job.jobReference.jobId}`,
      ...job,
      status: { state: 'DONE' },
      statistics: session ? { sessionInfo: { sessionId: session } } : {},
    };
  }
}

