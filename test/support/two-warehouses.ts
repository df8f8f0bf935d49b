// The same GA4 export events through both warehouses: ga4-export-bigquery + BigQuery + GCS on the
// local BigQuery (ZetaSQL's reference engine, src/dev/gcp/), and ga4-export-files + DuckDB on the
// same rows, written out by the local BigQuery in the contract's input order for export tables
// (Cleaning 5), so that the two can be compared byte for byte, with no tolerance.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load.js';
import { LocalGcp } from '../../src/dev/gcp/local-gcp.js';
import type { LoadedConfig } from '../../src/config/load.js';
import type { RunReport } from '../../src/pipeline/report.js';
import { runPipeline } from '../../src/pipeline/run.js';
import { DEMO_DEFAULTS } from '../../src/config/schema.js';
import { generateDemoExport } from '../../src/sources/demo/generator.js';
import { listFiles, SECRET, tempDir } from './pipeline.js';

export const PROJECT = 'my-store';
export const EXPORT_DATASET = 'analytics_1';
const BUCKET = 'shop-exports';

export interface TwoWarehousesOptions {
  days: number;
  sessionsPerDay: number;
  dirtyRate: number;
  /** The demo generator's seed (its default when absent). */
  seed?: number;
}

export interface TwoWarehouses {
  dir: string;
  gcp: LocalGcp;
  endpoint: string;
  /** The demo's dates, `YYYY-MM-DD`. */
  dates: string[];
  /** ga4-export-bigquery + bigquery + gcs (under `prefix`), with `extra` YAML appended. */
  bigQueryConfig(options?: { prefix?: string; extra?: string }): LoadedConfig;
  /** ga4-export-files + duckdb over the files of `dates` (all by default), exporting to `exportDir`. */
  duckDbConfig(options?: { dates?: readonly string[]; exportDir?: string; extra?: string }): LoadedConfig;
  run(loaded: LoadedConfig, dates: readonly string[]): Promise<RunReport>;
  /** Where a config's published files are: the bucket's prefix, or the local export folder. */
  bigQueryRoot(prefix?: string): string;
  duckDbRoot(exportDir?: string): string;
  /**
   * Every statement the BigQuery path sends goes through `rewrite` first (undefined: none). The
   * seam for a negative control: the tests patch what BigQuery runs, never a file of src/.
   */
  rewriteBigQuerySql(rewrite: ((sql: string) => string) | undefined): void;
  stop(): Promise<void>;
}

export const dayOf = (date: string) => date.replaceAll('-', '');

/** The glob of the DuckDB side's files: those of `dates`, or all. */
function filesOf(dates: readonly string[] | undefined): string {
  if (!dates) return 'files/*.json';
  const days = dates.map(dayOf);
  return days.length === 1 ? `files/events_${days[0]}.json` : `files/events_{${days.join(',')}}.json`;
}

/** Generates the dirty demo days, loads them into a local BigQuery, and writes them out for DuckDB. */
export async function twoWarehouses(options: TwoWarehousesOptions): Promise<TwoWarehouses> {
  const dir = await tempDir();
  const stats = await generateDemoExport({ ...DEMO_DEFAULTS, outDir: join(dir, 'in'), ...options });
  const dates = stats.map((d) => d.date);
  const gcp = await LocalGcp.create({ project: PROJECT, dataset: EXPORT_DATASET, storageDir: join(dir, 'gcs') });
  await gcp.loadExportFiles(join(dir, 'in', 'events_*.json.gz'));
  await mkdir(join(dir, 'files'));
  for (const date of dates) await writeFile(join(dir, 'files', `events_${dayOf(date)}.json`), await gcp.exportTableLines(`events_${dayOf(date)}`));
  const endpoint = await gcp.listen();

  const original = gcp.bigquery.runScript.bind(gcp.bigquery);
  let rewrite: ((sql: string) => string) | undefined;
  gcp.bigquery.runScript = (sql, context) => original(rewrite ? rewrite(sql) : sql, context);

  return {
    dir,
    gcp,
    endpoint,
    dates,
    bigQueryConfig: ({ prefix = 'exports/', extra = '' } = {}) =>
      parseConfig(
        `source: { type: ga4-export-bigquery, project: ${PROJECT}, dataset: ${EXPORT_DATASET} }
warehouse: { type: bigquery, project: ${PROJECT}, location: southamerica-east1, api_endpoint: "${endpoint}" }
export: { type: gcs, bucket: ${BUCKET}, prefix: ${prefix}, location: southamerica-east1, api_endpoint: "${endpoint}", remarketing_audience: true }
privacy: { user_key_secret: "${SECRET}" }
${extra}`,
        join(dir, 'gcp.yaml'),
      ),
    duckDbConfig: ({ dates: only, exportDir = 'exports', extra = '' } = {}) =>
      parseConfig(
        `source: { type: ga4-export-files, path: "${filesOf(only)}" }
warehouse: { type: duckdb, path: "state/warehouse.duckdb", memory_limit: "256MB", threads: 2 }
export: { type: local, dir: "${exportDir}", remarketing_audience: true }
landing: { dir: "state/landing" }
privacy: { user_key_secret: "${SECRET}" }
${extra}`,
        join(dir, 'duckdb.yaml'),
      ),
    run: (loaded, runDates) => runPipeline({ loaded, dates: [...runDates] }),
    bigQueryRoot: (prefix = 'exports/') => join(dir, 'gcs', BUCKET, prefix.replace(/\/$/, '')),
    duckDbRoot: (exportDir = 'exports') => join(dir, exportDir),
    rewriteBigQuerySql: (next) => {
      rewrite = next;
    },
    stop: () => gcp.stop(),
  };
}

/** The published files of `tables` and the report for `dates` under `root`: relative path → text. */
export async function publishedFiles(root: string, tables: readonly string[], dates: readonly string[]): Promise<Map<string, string>> {
  const wanted = new Set(dates.flatMap((date) => [...tables, 'report'].map((table) => `${table}/dt=${date}/`)));
  const files = (await listFiles(root)).filter((file) => [...wanted].some((prefix) => file.startsWith(prefix))).sort();
  return new Map(await Promise.all(files.map(async (file) => [file, await readFile(join(root, file), 'utf8')] as const)));
}

/** What a run measured of its input, per date and undated: what must agree between the warehouses. */
export function qualityFigures(report: RunReport) {
  return { dates: report.dates.map((d) => ({ date: d.date, status: d.status, quality: d.quality })), undated: report.undated };
}
