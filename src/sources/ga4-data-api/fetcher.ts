import type { BetaAnalyticsDataClient } from '@google-analytics/data';
import { CartlensError } from '../../util/errors.js';
import type { ReportDefinition } from './reports.js';

/** The slice of the Data API client that cartlens calls. */
export type Ga4DataClientLike = Pick<BetaAnalyticsDataClient, 'runReport'>;

/** The daily quota (or the run's token budget) is spent: the remaining dates wait for the next run. */
export class QuotaDeferral extends CartlensError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'the remaining dates are left for the next run, which continues where this one stopped', true, options);
  }
}

/** Data-quality signals of one report for one date, kept and published in the manifest. */
export interface ReportQuality {
  subjectToThresholding: boolean;
  samplingMetadatas: unknown[];
  dataLossFromOtherRow: boolean;
  emptyReason: string | null;
}

export interface FetchedReport {
  report: string;
  date: string;
  /** Each page as the API returned it, with the request that produced it. */
  pages: { request: Record<string, unknown>; response: Record<string, unknown> }[];
  rowCount: number;
  quality: ReportQuality;
  tokens: number;
}

export interface FetcherOptions {
  property: string;
  pageSize: number;
  /** Tokens this run may spend; it stops before the next request would pass it. */
  tokenBudget: number;
  /** Tokens one request is expected to cost, to stop before the budget runs out. */
  tokensPerRequestEstimate: number;
  maxRetries: number;
  /** How long an hourly-quota error waits before trying again. */
  hourlyWaitMs: number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
}

export const FETCHER_DEFAULTS = {
  pageSize: 10_000,
  tokenBudget: 150_000,
  tokensPerRequestEstimate: 50,
  maxRetries: 3,
  hourlyWaitMs: 60 * 60 * 1000,
  sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
} satisfies Omit<FetcherOptions, 'property'>;

/**
 * Fetches reports one date at a time, paging until the reported `rowCount` is reached (a
 * mismatch is an error, never a short table), asking for `propertyQuota` on every request.
 * 5xx answers are retried at most `maxRetries` times with jittered exponential back-off; an
 * hourly quota error waits for the next hour; a daily one — or the run's token budget — stops
 * with QuotaDeferral so that the caller checkpoints and leaves the rest for the next run.
 */
export class ReportFetcher {
  private tokensSpent = 0;

  constructor(
    private readonly client: Ga4DataClientLike,
    private readonly options: FetcherOptions,
  ) {}

  get spent(): number {
    return this.tokensSpent;
  }

  async fetch(report: ReportDefinition, date: string): Promise<FetchedReport> {
    const pages: FetchedReport['pages'] = [];
    let rowCount = 0;
    let received = 0;
    let tokens = 0;
    const quality: ReportQuality = { subjectToThresholding: false, samplingMetadatas: [], dataLossFromOtherRow: false, emptyReason: null };
    do {
      const request = {
        property: this.options.property,
        dateRanges: [{ startDate: date, endDate: date }],
        dimensions: report.dimensions.map((name) => ({ name })),
        metrics: report.metrics.map((name) => ({ name })),
        offset: received,
        limit: this.options.pageSize,
        returnPropertyQuota: true,
        keepEmptyRows: false,
      };
      const response = await this.request(request, `${report.name} for ${date}`);
      const rows = (response.rows as unknown[] | undefined) ?? [];
      const metadata = (response.metadata ?? {}) as Record<string, unknown>;
      const spent = Number((response.propertyQuota as { tokensPerDay?: { consumed?: number } } | undefined)?.tokensPerDay?.consumed ?? this.options.tokensPerRequestEstimate);
      tokens += spent;
      this.tokensSpent += spent;
      rowCount = Number(response.rowCount ?? 0);
      received += rows.length;
      quality.subjectToThresholding ||= metadata.subjectToThresholding === true;
      quality.dataLossFromOtherRow ||= metadata.dataLossFromOtherRow === true;
      quality.samplingMetadatas.push(...((metadata.samplingMetadatas as unknown[] | undefined) ?? []));
      quality.emptyReason ??= typeof metadata.emptyReason === 'string' && metadata.emptyReason !== '' ? metadata.emptyReason : null;
      pages.push({ request, response });
      if (rows.length === 0 && received < rowCount) break;
    } while (received < rowCount);
    if (received !== rowCount) {
      throw new CartlensError(
        `GA4 Data API: ${report.name} for ${date} reported ${rowCount} rows and sent ${received}`,
        'the report changed while paging or the API misreported it: run again; nothing was published for this date',
      );
    }
    return { report: report.name, date, pages, rowCount, quality, tokens };
  }

  private async request(request: Record<string, unknown>, what: string): Promise<Record<string, unknown>> {
    for (let attempt = 0; ; attempt++) {
      if (this.tokensSpent + this.options.tokensPerRequestEstimate > this.options.tokenBudget) {
        throw new QuotaDeferral(`GA4 Data API: the run's token budget (${this.options.tokenBudget}) would be passed by ${what}`);
      }
      try {
        // cartlens retries itself (bounded, jittered), so the client's own retries are off.
        const [response] = await this.client.runReport(request, { retry: null } as never);
        return response as unknown as Record<string, unknown>;
      } catch (error) {
        const code = Number((error as { code?: number }).code);
        const message = String((error as Error).message ?? '');
        const exhausted = code === 429 || code === 8;
        if (exhausted && /per day/i.test(message)) throw new QuotaDeferral(`GA4 Data API: the property's daily token quota is spent (${what})`, { cause: error });
        if (exhausted && /per hour/i.test(message) && attempt < this.options.maxRetries) {
          await this.options.sleep(this.options.hourlyWaitMs);
          continue;
        }
        const transient = code >= 500 || code === 14 || code === 4;
        if (transient && attempt < this.options.maxRetries) {
          await this.options.sleep(Math.round((2 ** attempt * 500 + this.options.random() * 500)));
          continue;
        }
        throw new CartlensError(`GA4 Data API: ${what} failed (${code}): ${message.slice(0, 200)}`, transient || exhausted ? 'a temporary GA4 problem: run again' : 'check the property id and that the service account has Viewer on it', transient || exhausted, { cause: error });
      }
    }
  }
}
