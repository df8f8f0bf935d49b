import { csvFileName } from '../exports/exporter.js';
import { API_TABLES, PUBLISHED_TABLE_NAMES } from '../contract/tables.js';
import { reportPath, runReportPath } from '../reports/daily-report.js';
import { DEFAULT_ANOMALY_THRESHOLDS, type AnomalyThresholds } from '../reports/anomaly-check.js';
import type { EventSource } from '../sources/source.js';
import { API_PUBLISHED_DATES, apiDashboardData } from './api-queries.js';
import { renderApiDashboard } from './api-page.js';
import { renderDashboard, type PageContext } from './page.js';
import { dashboardData, resolveRange, type AskedRange } from './queries.js';
import { API_COPY, EVENTS_COPY, type CopiedTableSet, type Query } from './snapshot.js';

/** One of a day's published files, relative to the export root. */
export interface DayFile {
  name: string;
  path: string;
}

/**
 * What the dashboard shows for a kind of source, as data: what it copies, how it computes a
 * range, how it draws it, and which files of a day are its own (linked from the status table and
 * the only ones `/files/` serves). Chosen once from the config's source (`viewFor`); the server
 * and `serve` never ask which source it is.
 */
export interface DashboardView<D = unknown> {
  readonly name: string;
  /** The tables copied from the warehouse, and the source's run_state. */
  readonly copy: CopiedTableSet;
  /** The published tables whose CSV and manifest `/files/` serves. */
  readonly tables: readonly string[];
  /** The folder of the source's markers, daily reports and run reports (plan.ts `namespace`). */
  readonly namespace: '' | 'ga4_api/';
  /** The page data of the range asked for (an InputError for a bad one), on one copy. */
  data(query: Query, asked: AskedRange): Promise<D>;
  render(data: D, context: PageContext): string;
  /** The day's files the status table links to. */
  dayFiles(date: string): DayFile[];
}

const tableCsv = (table: string, date: string): DayFile => ({ name: `${table}.csv`, path: `${table}/dt=${date}/${csvFileName(table, date)}` });

/** GA4 export events (files, the demo, the BigQuery export): the contract's cart tables. */
export const eventsView: DashboardView<Awaited<ReturnType<typeof dashboardData>>> = {
  name: 'events',
  copy: EVENTS_COPY,
  tables: PUBLISHED_TABLE_NAMES,
  namespace: '',
  async data(query, asked) {
    const { range, available } = await resolveRange(query, asked);
    return dashboardData(query, range, available);
  },
  render: renderDashboard,
  dayFiles: (date) => [...PUBLISHED_TABLE_NAMES.map((table) => tableCsv(table, date)), { name: 'report.html', path: reportPath(date) }, { name: 'run_report.json', path: runReportPath(date) }],
};

const API_TABLE_NAMES = API_TABLES.map((t) => t.name);

/** The GA4 Data API: its own tables (ga4_api_*_daily), in its own folder of reports and markers. */
export const apiView: DashboardView<Awaited<ReturnType<typeof apiDashboardData>>> = {
  name: 'ga4-data-api',
  copy: API_COPY,
  tables: API_TABLE_NAMES,
  namespace: 'ga4_api/',
  async data(query, asked) {
    const { range, available } = await resolveRange(query, asked, API_PUBLISHED_DATES);
    return apiDashboardData(query, range, available);
  },
  render: renderApiDashboard,
  dayFiles: (date) => [
    ...API_TABLE_NAMES.flatMap((table) => [tableCsv(table, date), { name: `${table}.manifest.json`, path: `${table}/dt=${date}/manifest.json` }]),
    { name: 'report.html', path: reportPath(date, 'ga4_api/') },
    { name: 'run_report.json', path: runReportPath(date, 'ga4_api/') },
  ],
};

/** The view of each kind of source: a new kind of source does not compile until it has one. */
const VIEWS: Record<EventSource['kind'], DashboardView> = {
  files: eventsView,
  'bigquery-export': eventsView,
  'ga4-data-api': apiView,
};

/** The view of a source's kind; the events' judges unusual days with the config's anomaly thresholds. */
export function viewFor(source: Pick<EventSource, 'kind'>, anomalies: AnomalyThresholds = DEFAULT_ANOMALY_THRESHOLDS): DashboardView {
  const view = VIEWS[source.kind];
  if (view !== eventsView) return view;
  return {
    ...eventsView,
    async data(query, asked) {
      const { range, available } = await resolveRange(query, asked);
      return dashboardData(query, range, available, anomalies);
    },
  } satisfies DashboardView<Awaited<ReturnType<typeof dashboardData>>> as DashboardView;
}
