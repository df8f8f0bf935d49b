import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { DuckDBInstance } from '@duckdb/node-api';
import { DEFAULT_REPORTS, type ReportDefinition } from '../reports.js';

/**
 * A local emulator of the GA4 Data API's `runReport` over REST (what the real client sends with
 * its REST fallback), answering the default cart reports from GA4 export events — so the API path
 * runs end to end with no account (`cartlens dev ga4-api`). It pages with offset/limit, reports
 * `rowCount` and `propertyQuota` (a token budget per day and per hour it really spends), and can
 * inject the faults the fetcher must survive. The metric definitions follow GA4's descriptions
 * closely enough for reconciliation tests, not to the last edge of GA4's processing.
 */
export type Ga4ApiFault =
  | { kind: 'daily-quota' }
  | { kind: 'hourly-quota' }
  | { kind: 'unavailable' }
  | { kind: 'slow'; ms: number }
  /** Reports one row more than it sends. */
  | { kind: 'bad-row-count' }
  /** Flags the response as subject to thresholding. */
  | { kind: 'thresholded' };

export interface EmulatorRequest {
  property: string;
  body: RunReportBody;
  status: number;
}

interface RunReportBody {
  dimensions?: { name: string }[];
  metrics?: { name: string }[];
  dateRanges?: { startDate: string; endDate: string }[];
  offset?: string | number;
  limit?: string | number;
  returnPropertyQuota?: boolean;
}

type ReportRows = Map<string, (string | number)[][]>; // by date (YYYY-MM-DD): dimension values then metric values

export interface EmulatorOptions {
  tokensPerDay?: number;
  tokensPerHour?: number;
  /** Tokens each request costs. */
  tokensPerRequest?: number;
  timeZone?: string;
  currencyCode?: string;
}

export class Ga4ApiEmulator {
  readonly requests: EmulatorRequest[] = [];
  private readonly faults: { fault: Ga4ApiFault; times: number; onDate?: string }[] = [];
  private server: Server | undefined;
  private tokensUsedToday = 0;
  private tokensUsedThisHour = 0;
  private options: Required<EmulatorOptions>;

  private constructor(
    private readonly reports: Map<string, ReportRows>,
    options: EmulatorOptions,
  ) {
    this.options = { tokensPerDay: 200_000, tokensPerHour: 40_000, tokensPerRequest: 10, timeZone: 'America/Sao_Paulo', currencyCode: 'BRL', ...options };
  }

  /** Computes the default reports from GA4 export files (a glob of .json[.gz] NDJSON). */
  static async fromExportFiles(glob: string, options: EmulatorOptions = {}): Promise<Ga4ApiEmulator> {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      await connection.run(`
        CREATE TABLE ev AS
        SELECT
          strptime(event_date, '%Y%m%d')::DATE AS date, event_name, user_pseudo_id,
          TRY_CAST(coalesce(list_filter(event_params, p -> p.key = 'ga_session_id')[1].value.int_value,
                            list_filter(event_params, p -> p.key = 'ga_session_id')[1].value.string_value) AS BIGINT) AS session_id,
          coalesce(device.category, '(not set)') AS deviceCategory, coalesce(geo.country, '(not set)') AS country,
          coalesce(traffic_source.source, '(direct)') || ' / ' || coalesce(traffic_source.medium, '(none)') AS sessionSourceMedium,
          items, TRY_CAST(ecommerce.purchase_revenue AS DOUBLE) AS revenue
        FROM read_json(${sqlString(glob)}, format = 'newline_delimited', ignore_errors = true, columns = {
          event_date: 'VARCHAR', event_name: 'VARCHAR', user_pseudo_id: 'VARCHAR',
          event_params: 'STRUCT(key VARCHAR, value STRUCT(int_value VARCHAR, string_value VARCHAR))[]',
          device: 'STRUCT(category VARCHAR)', geo: 'STRUCT(country VARCHAR)', traffic_source: 'STRUCT(source VARCHAR, medium VARCHAR)',
          items: 'STRUCT(item_id VARCHAR, item_name VARCHAR, item_category VARCHAR, price DOUBLE, quantity BIGINT, item_revenue DOUBLE)[]',
          ecommerce: 'STRUCT(purchase_revenue VARCHAR)'})
        WHERE try_strptime(event_date, '%Y%m%d') IS NOT NULL AND event_name IS NOT NULL AND user_pseudo_id IS NOT NULL`);
      const queries: Record<string, string> = {
        items: `
          SELECT date, item.item_id, any_value(item.item_name), any_value(item.item_category),
            sum(CASE WHEN event_name = 'view_item' THEN coalesce(item.quantity, 1) ELSE 0 END),
            sum(CASE WHEN event_name = 'add_to_cart' THEN coalesce(item.quantity, 1) ELSE 0 END),
            sum(CASE WHEN event_name = 'begin_checkout' THEN coalesce(item.quantity, 1) ELSE 0 END),
            sum(CASE WHEN event_name = 'purchase' THEN coalesce(item.quantity, 1) ELSE 0 END),
            round(sum(CASE WHEN event_name = 'purchase' THEN coalesce(item.item_revenue, item.price * coalesce(item.quantity, 1), 0) ELSE 0 END), 2)
          FROM (SELECT date, event_name, unnest(items) AS item FROM ev)
          WHERE item.item_id IS NOT NULL
          GROUP BY date, item.item_id ORDER BY date, item.item_id`,
        funnel: `
          SELECT date, deviceCategory, country, sessionSourceMedium,
            count(DISTINCT (user_pseudo_id, session_id)),
            count(*) FILTER (WHERE event_name = 'add_to_cart'),
            count(*) FILTER (WHERE event_name = 'begin_checkout'),
            count(*) FILTER (WHERE event_name = 'purchase'),
            round(coalesce(sum(revenue) FILTER (WHERE event_name = 'purchase'), 0), 2),
            count(DISTINCT user_pseudo_id) FILTER (WHERE event_name = 'purchase')
          FROM ev GROUP BY ALL ORDER BY ALL`,
      };
      const reports = new Map<string, ReportRows>();
      for (const report of DEFAULT_REPORTS) {
        const rows = (await connection.runAndReadAll(queries[report.name]!)).getRowsJson() as (string | number)[][];
        const byDate: ReportRows = new Map();
        for (const row of rows) {
          const date = String(row[0]);
          byDate.set(date, [...(byDate.get(date) ?? []), [date.replaceAll('-', ''), ...row.slice(1).map((v) => (v === null ? '' : v))]]);
        }
        reports.set(reportKey(report), byDate);
      }
      return new Ga4ApiEmulator(reports, options);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  }

  /** Makes the next `times` requests (for `onDate` only, when given) fail or change with `fault`. */
  inject(fault: Ga4ApiFault, times = 1, onDate?: string): void {
    this.faults.push({ fault, times, ...(onDate ? { onDate } : {}) });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Changes a day's numbers, as GA4 does when it revises recent days. */
  revise(report: string, date: string, change: (row: (string | number)[]) => (string | number)[]): void {
    const definition = DEFAULT_REPORTS.find((r) => r.name === report)!;
    const rows = this.reports.get(reportKey(definition))!;
    rows.set(date, (rows.get(date) ?? []).map(change));
  }

  setTokensPerDay(tokens: number): void {
    this.options.tokensPerDay = tokens;
  }

  /** A new day of quota: what the next run sees. */
  resetDailyQuota(): void {
    this.tokensUsedToday = 0;
    this.tokensUsedThisHour = 0;
  }

  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(port, host, resolve));
    return `http://${host}:${(this.server.address() as { port: number }).port}`;
  }

  get port(): number {
    return (this.server?.address() as { port: number }).port;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const match = /^\/v1beta\/(properties\/\d+):runReport$/.exec(url.pathname);
    const body = (chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {}) as RunReportBody;
    const reply = (status: number, json: unknown) => {
      this.requests.push({ property: match?.[1] ?? '', body, status });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    };
    const error = (status: number, grpcStatus: string, message: string) => reply(status, { error: { code: status, message, status: grpcStatus } });
    if (req.method !== 'POST' || !match) return error(404, 'NOT_FOUND', `the emulator answers POST /v1beta/properties/{id}:runReport, not ${req.method} ${url.pathname}`);

    const date = body.dateRanges?.[0]?.startDate ?? '';
    const armed = this.faults.find((f) => f.times > 0 && (!f.onDate || f.onDate === date));
    if (armed) armed.times--;
    const fault = armed?.fault;
    if (fault?.kind === 'slow') await new Promise((resolve) => setTimeout(resolve, fault.ms));
    if (fault?.kind === 'unavailable') return error(503, 'UNAVAILABLE', 'The service is currently unavailable.');
    if (fault?.kind === 'hourly-quota' || this.tokensUsedThisHour + this.options.tokensPerRequest > this.options.tokensPerHour) {
      return error(429, 'RESOURCE_EXHAUSTED', 'Exhausted property tokens per hour for a project per property. Retry next hour.');
    }
    if (fault?.kind === 'daily-quota' || this.tokensUsedToday + this.options.tokensPerRequest > this.options.tokensPerDay) {
      return error(429, 'RESOURCE_EXHAUSTED', 'Exhausted property tokens per day for a project per property. Retry tomorrow.');
    }
    const definition = DEFAULT_REPORTS.find(
      (r) => r.dimensions.join() === (body.dimensions ?? []).map((d) => d.name).join() && r.metrics.join() === (body.metrics ?? []).map((m) => m.name).join(),
    );
    if (!definition) return error(400, 'INVALID_ARGUMENT', 'the emulator answers the default cart reports only');
    if (!body.dateRanges || body.dateRanges.length !== 1 || body.dateRanges[0]!.startDate !== body.dateRanges[0]!.endDate) {
      return error(400, 'INVALID_ARGUMENT', 'the emulator answers one date at a time');
    }
    this.tokensUsedToday += this.options.tokensPerRequest;
    this.tokensUsedThisHour += this.options.tokensPerRequest;
    const all = this.reports.get(reportKey(definition))!.get(date) ?? [];
    const offset = Number(body.offset ?? 0);
    const limit = Number(body.limit ?? 10_000);
    const page = all.slice(offset, offset + limit);
    reply(200, {
      kind: 'analyticsData#runReport',
      dimensionHeaders: definition.dimensions.map((name) => ({ name })),
      metricHeaders: definition.metrics.map((name) => ({ name, type: /revenue/i.test(name) ? 'TYPE_CURRENCY' : 'TYPE_INTEGER' })),
      rows: page.map((row) => ({
        dimensionValues: row.slice(0, definition.dimensions.length).map((value) => ({ value: String(value) })),
        metricValues: row.slice(definition.dimensions.length).map((value) => ({ value: String(value) })),
      })),
      rowCount: all.length + (fault?.kind === 'bad-row-count' ? 1 : 0),
      metadata: {
        currencyCode: this.options.currencyCode,
        timeZone: this.options.timeZone,
        ...(fault?.kind === 'thresholded' ? { subjectToThresholding: true } : {}),
        ...(all.length === 0 ? { emptyReason: 'No data for the requested date.' } : {}),
      },
      ...(body.returnPropertyQuota
        ? {
            propertyQuota: {
              tokensPerDay: { consumed: this.options.tokensPerRequest, remaining: this.options.tokensPerDay - this.tokensUsedToday },
              tokensPerHour: { consumed: this.options.tokensPerRequest, remaining: this.options.tokensPerHour - this.tokensUsedThisHour },
              concurrentRequests: { consumed: 0, remaining: 10 },
            },
          }
        : {}),
    });
  }
}

function reportKey(report: ReportDefinition): string {
  return `${report.dimensions.join(',')}|${report.metrics.join(',')}`;
}

function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
