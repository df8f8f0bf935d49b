import { QuotaDeferral, type FetchedReport, type ReportFetcher } from './fetcher.js';
import type { ReportDefinition } from './reports.js';

export interface ApiExtraction {
  /** Dates fetched whole (every report), in date order. */
  fetched: { date: string; reports: FetchedReport[] }[];
  /** Dates left for the next run: the daily quota or the run's token budget ran out. */
  deferred: { date: string; reason: string }[];
  /** Dates fetched before when already final, outside the lookback window: not fetched again. */
  settled: string[];
}

export interface ExtractOptions {
  reports: readonly ReportDefinition[];
  dates: readonly string[];
  /** Dates whose every report was fetched when final (run state of the raw tables). */
  alreadyFinal: ReadonlySet<string>;
  /** The first date GA4 may still revise: it and later dates are fetched again on every run. */
  lookbackStart: string;
  onStep?: (message: string) => void;
}

/**
 * The Data API's extract step: each date's reports, fetched whole before anything of the date is
 * loaded. When the quota or the run's token budget runs out, that date and every later one are
 * deferred: the next run fetches exactly those.
 */
export async function extractApiReports(fetcher: ReportFetcher, options: ExtractOptions): Promise<ApiExtraction> {
  const extraction: ApiExtraction = { fetched: [], deferred: [], settled: [] };
  let exhausted: string | undefined;
  for (const date of [...options.dates].sort()) {
    if (exhausted) {
      extraction.deferred.push({ date, reason: exhausted });
      continue;
    }
    if (options.alreadyFinal.has(date) && date < options.lookbackStart) {
      extraction.settled.push(date);
      continue;
    }
    const reports: FetchedReport[] = [];
    try {
      for (const report of options.reports) {
        options.onStep?.(`fetching ${report.name} for ${date}`);
        reports.push(await fetcher.fetch(report, date));
      }
    } catch (error) {
      if (!(error instanceof QuotaDeferral)) throw error;
      exhausted = error.message;
      options.onStep?.(`${error.message}: ${date} and later dates are deferred to the next run`);
      extraction.deferred.push({ date, reason: exhausted });
      continue;
    }
    extraction.fetched.push({ date, reports });
  }
  return extraction;
}
