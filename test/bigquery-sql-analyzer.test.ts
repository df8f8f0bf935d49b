// Every statement cartlens sends to BigQuery, checked by Google's ZetaSQL analyzer: the real
// client runs whole runs (and the dashboard's copy) against the local BigQuery, which computes
// each of them from a small export day, and each job it receives is analyzed against a catalog of
// the GA4 export and the tables the statements create. What the analyzer cannot check is listed
// in docs/google-cloud.md.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type LoadedConfig } from '../src/config/load.js';
import type { BigQueryWarehouseConfig } from '../src/config/schema.js';
import { planPolicy } from '../src/cloud/iam/plan.js';
import { loadPolicy } from '../src/cloud/iam/policy.js';
import { bigQuerySnapshotSource } from '../src/dashboard/copy-from-bigquery.js';
import { WarehouseSnapshot } from '../src/dashboard/snapshot.js';
import { API_TABLES, PUBLISHED_TABLES, REMARKETING_AUDIENCE } from '../src/contract/tables.js';
import { runPipeline } from '../src/pipeline/run.js';
import { createSource } from '../src/sources/index.js';
import type { BigQueryExportSource } from '../src/sources/source.js';
import { BIGQUERY_COLUMN_TYPES } from '../src/contract/column-types.js';
import { BigQueryWarehouse } from '../src/warehouse/bigquery/bigquery-warehouse.js';
import { dialectFor } from '../src/warehouse/index.js';
import { DEMO_DEFAULTS } from '../src/config/schema.js';
import { generateDemoExport } from '../src/sources/demo/generator.js';
import { Ga4ApiEmulator } from '../src/sources/ga4-data-api/emulator/ga4-api-emulator.js';
import type { FakeJob } from './support/fake-bigquery.js';
import { RecordingGcp } from './support/local-gcp.js';
import { ev, item, tempDir } from './support/pipeline.js';
import { AnalyzerError, outputColumns, ZetaSqlAnalyzer, type AnalyzedStatement, type ParameterTypes } from './support/zetasql/analyzer.js';
import { BigQueryCatalog } from './support/zetasql/catalog.js';
import { describeWithZetaSql } from './support/zetasql/guard.js';
import { typeName } from './support/zetasql/types.js';

const PROJECT = 'my-project';
const EXPORT_DATASET = `${PROJECT}.analytics_123`;
const MARTS = `${PROJECT}.cartlens_marts`;
const STAGING = `${PROJECT}.cartlens_staging`;

/** A job's statements with their named parameters' types, as BigQuery would receive them. */
interface SentJob {
  name: string;
  sql: string;
  parameters: ParameterTypes;
}

function sentJob(job: FakeJob): SentJob {
  const query = job.configuration.query as { query: string; queryParameters?: { name: string; parameterType: { type: string } }[] };
  const parameters = Object.fromEntries((query.queryParameters ?? []).map((p) => [p.name, p.parameterType.type]));
  return { name: `${job.configuration.dryRun ? 'dry run ' : ''}job ${job.jobReference.jobId}`, sql: query.query, parameters };
}

describeWithZetaSql('every BigQuery statement passes ZetaSQL', () => {
  let analyzer: ZetaSqlAnalyzer;
  let gcp: RecordingGcp;
  const jobs: SentJob[] = [];
  const analyzed: AnalyzedStatement[] = [];
  const rejected: string[] = [];

  const freshCatalog = () => new BigQueryCatalog().addGa4Export(EXPORT_DATASET).addDatasetMetadata(MARTS).addDatasetMetadata(STAGING);

  beforeAll(async () => {
    const started = Date.now();
    analyzer = await ZetaSqlAnalyzer.start(freshCatalog());
    const dir = await tempDir();
    // One small export day: a purchase, an abandoned cart, and a line quarantined for its missing user.
    await mkdir(join(dir, 'export'));
    const day = [
      ev('view_item', { user: 'u1', session: 1, at: 1, items: [item('A')] }),
      ev('add_to_cart', { user: 'u1', session: 1, at: 2, items: [item('A')] }),
      ev('purchase', { user: 'u1', session: 1, at: 3, items: [item('A')], ecommerce: { transaction_id: 't-1', purchase_revenue: 10 } }),
      ev('add_to_cart', { user: 'u2', session: 2, at: 4, items: [item('B')] }),
      { ...ev('view_item', { session: 3, at: 5 }), user_pseudo_id: null },
    ];
    await writeFile(join(dir, 'export', 'events_20261101.json'), day.map((e) => `${JSON.stringify(e)}\n`).join(''));
    gcp = await RecordingGcp.start({ project: PROJECT, dataset: 'analytics_123', location: 'southamerica-east1', exportFiles: join(dir, 'export', 'events_*.json') });
    const endpoint = gcp.endpoint;
    const yaml = `source: { type: ga4-export-bigquery, project: ${PROJECT}, dataset: analytics_123 }
warehouse: { type: bigquery, project: ${PROJECT}, location: southamerica-east1, api_endpoint: "${endpoint}" }
export: { type: local, dir: exports, remarketing_audience: true }
privacy: { user_key_secret: "a-secret-of-enough-length" }`;
    const loaded: LoadedConfig = parseConfig(yaml, join(dir, 'cartlens.yaml'));

    // A run for a date, a run of every date in the export (the listing), a run of the due dates,
    // the dry run `plan --dry-run` prices, and the dashboard's copy: all that cartlens sends.
    await runPipeline({ loaded, dates: ['2026-11-01'] });
    await runPipeline({ loaded });
    await runPipeline({ loaded, due: true, now: () => new Date('2026-11-02T12:00:00Z') });
    const warehouseConfig = loaded.config.warehouse as BigQueryWarehouseConfig;
    const warehouse = await BigQueryWarehouse.open({
      project: PROJECT,
      location: warehouseConfig.location,
      stagingDataset: warehouseConfig.staging_dataset,
      martsDataset: warehouseConfig.marts_dataset,
      maximumBytesBilled: warehouseConfig.maximum_bytes_billed,
      apiEndpoint: endpoint,
    }, dialectFor(warehouseConfig));
    await warehouse.dryRunExportRead(createSource(loaded.config.source, dir) as BigQueryExportSource, ['2026-11-01', '2026-11-02']);
    const snapshot = await WarehouseSnapshot.create(bigQuerySnapshotSource(warehouseConfig), 'bigquery');
    await snapshot.refresh();
    await snapshot.close();
    // And the GA4 Data API path: its pages land in the local Cloud Storage, load jobs take them in.
    await generateDemoExport({ ...DEMO_DEFAULTS, outDir: join(dir, 'in'), days: 1, sessionsPerDay: 30 });
    const emulator = await Ga4ApiEmulator.fromExportFiles(join(dir, 'in', 'events_*.json.gz'));
    try {
      const ga4 = await emulator.start();
      const api = parseConfig(
        `source: { type: ga4-data-api, property: properties/123, api_endpoint: "${ga4}" }
warehouse: { type: bigquery, project: ${PROJECT}, location: southamerica-east1, api_endpoint: "${endpoint}" }
export: { type: gcs, bucket: shop-exports, prefix: exports/, location: southamerica-east1, api_endpoint: "${endpoint}" }`,
        join(dir, 'api.yaml'),
      );
      await runPipeline({ loaded: api, dates: [DEMO_DEFAULTS.startDate] });
      // The due dates as of a fixed day (the clock's would grow the run each day): the lookback's
      // refetch of the first date, and the days after it, which the emulator has no data for.
      await runPipeline({ loaded: api, due: true, now: () => new Date('2026-11-09T12:00:00Z') });
    } finally {
      await emulator.stop();
    }

    // Load jobs carry no SQL: their sources and destination are checked in ga4-api-gcp.test.ts.
    jobs.push(...gcp.inserts.filter((job) => job.configuration.query).map(sentJob));
    const analysisStarted = Date.now();
    for (const job of jobs) {
      try {
        analyzed.push(...(await analyzer.analyzeScript(job.sql, job.name, job.parameters)));
      } catch (error) {
        if (!(error instanceof AnalyzerError)) throw error;
        rejected.push(error.message);
      }
    }
    process.stderr.write(`ZetaSQL: ${analyzed.length} statements of ${jobs.length} jobs analyzed in ${Date.now() - analysisStarted} ms (${Date.now() - started} ms with the server's start and the runs)\n`);
  });

  afterAll(async () => {
    await analyzer?.stop();
    await gcp?.stop();
  });

  it('accepts every statement of the runs, the dry run and the dashboard copy', () => {
    // Each rejection names the job and statement and carries the analyzer's caret.
    expect(rejected, rejected.join('\n\n')).toEqual([]);
    expect(analyzed.length).toBeGreaterThan(jobs.length);
  });

  it('saw every kind of statement a run sends, from the wire', () => {
    const sent = (pattern: RegExp) => analyzed.filter((s) => pattern.test(s.sql)).length;
    const kinds: Record<string, RegExp> = {
      'schema DDL': /^CREATE TABLE IF NOT EXISTS `my-project\.cartlens_staging\.stg_events`/,
      'published tables DDL': /^CREATE TABLE IF NOT EXISTS `my-project\.cartlens_marts\.abandoned_carts`/,
      'staging from the export': /FROM `my-project\.analytics_123\.events_2\*` AS e/,
      'settling (dedupe, quarantine)': /^CREATE TEMP TABLE _run_settled AS/,
      load: /^INSERT INTO `my-project\.cartlens_staging\.stg_event_items`/,
      'models (temp)': /^CREATE TEMP TABLE `int_sessions` AS/,
      'models (published)': /^INSERT INTO `my-project\.cartlens_marts\.cart_items_daily` SELECT \* FROM `_new_cart_items_daily`/,
      assertions: /^INSERT INTO `my-project\.cartlens_staging\.assertion_results` VALUES/,
      'run state': /^INSERT INTO `my-project\.cartlens_staging\.run_state` VALUES/,
      'user key fingerprint': /^SELECT fingerprint FROM `my-project\.cartlens_staging\.user_key_fingerprint`$/,
      'user key fingerprint record': /^INSERT INTO `my-project\.cartlens_staging\.user_key_fingerprint` VALUES/,
      retention: /^DELETE FROM `my-project\.cartlens_staging\.quarantined_events` WHERE event_date </,
      exports: /^SELECT .* FROM `my-project\.cartlens_marts\.abandoned_carts` AS t WHERE t\.date =/s,
      'dashboard copy': /FOR SYSTEM_TIME AS OF TIMESTAMP/,
      'dashboard change check': /__TABLES__/,
      'no-dates listing': /INFORMATION_SCHEMA\.TABLES/,
      transaction: /^BEGIN TRANSACTION$/,
      'session end': /^CALL BQ\.ABORT_SESSION\(\)$/,
      'Data API raw tables': /^INSERT INTO `my-project\.cartlens_staging\.raw_ga4_api_items`/,
      'Data API fetch record': /^INSERT INTO `my-project\.cartlens_staging\.ga4_api_fetches`/,
      'Data API final dates': /FROM `my-project\.cartlens_staging\.ga4_api_fetches`/,
      'Data API models': /^INSERT INTO `my-project\.cartlens_marts\.ga4_api_funnel_daily` SELECT \* FROM `_new_ga4_api_funnel_daily`/,
      'Data API exports': /FROM `my-project\.cartlens_marts\.ga4_api_items_daily` AS t WHERE t\.date =/,
      'Data API daily report': /ORDER BY items_added_to_cart DESC, item_id LIMIT 10/,
      'Data API pages retention': /^DELETE FROM `my-project\.cartlens_staging\.ga4_api_pages` WHERE date </,
    };
    const missing = Object.entries(kinds).filter(([, pattern]) => sent(pattern) === 0).map(([kind]) => kind);
    expect(missing).toEqual([]);
    expect(jobs.some((job) => job.name.startsWith('dry run'))).toBe(true);
  });

  it('types each published table as the contract says, and exports its columns in order as text', () => {
    for (const table of [...PUBLISHED_TABLES, REMARKETING_AUDIENCE, ...API_TABLES]) {
      // The model's rows, before they replace the run's dates in the published table.
      const model = analyzed.find((s) => s.sql.startsWith(`CREATE TEMP TABLE \`_new_${table.name}\` AS`));
      expect(model, table.name).toBeDefined();
      const created = analyzer.catalog.columnsOf(`_new_${table.name}`);
      expect(created.map(([name, type]) => `${name} ${typeName(type)}`), table.name).toEqual(table.columns.map((c) => `${c.name} ${BIGQUERY_COLUMN_TYPES[c.kind]}`));

      const exported = analyzed.find((s) => s.sql.includes(`FROM \`${MARTS}.${table.name}\` AS t WHERE t.date =`));
      expect(exported, table.name).toBeDefined();
      expect(outputColumns(exported!.resolved).map((c) => `${c.name} ${typeName(c.type)}`)).toEqual(table.columns.map((c) => `${c.name} STRING`));
    }
  });

  it("accepts the IAM plan's table-level GRANT statements", async () => {
    // `cartlens iam plan` prints them as `bq query` commands for the dashboard's account.
    const policy = await loadPolicy(join(process.cwd(), 'deploy', 'iam.yaml'));
    const grants = planPolicy({ ...policy, project: PROJECT }).flatMap((line) => [...line.matchAll(/--nouse_legacy_sql '([^']*)'/g)].map((m) => m[1]!));
    expect(grants.length).toBeGreaterThan(0);
    for (const grant of grants) {
      const [statement] = await analyzer.analyzeScript(grant, 'iam plan');
      expect(statement!.resolved.node).toBe('resolvedGrantOrRevokeStmtNode');
    }
  });

  describe('negative controls: the check can fail', () => {
    const rejects = async (sql: string, message: RegExp, parameters: ParameterTypes = {}) => {
      const error = await analyzer.analyzeScript(sql, 'control', parameters).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(AnalyzerError);
      expect((error as Error).message).toMatch(message);
      // The message points at the spot: the statement's line and a caret under it.
      expect((error as Error).message).toMatch(/\n *\^/);
    };
    const stageRead = () => analyzed.find((s) => s.sql.includes('FROM `my-project.analytics_123.events_2*` AS e'))!.sql;

    it('a misspelt function', () => rejects(stageRead().replace('REGEXP_CONTAINS', 'REGEX_CONTAINS'), /Function not found: REGEX_CONTAINS/));
    it('a missing struct field of the GA4 export', () => rejects(stageRead().replace('e.geo.country', 'e.geo.county'), /Field name county does not exist/));
    it('a wrong INSERT column count', () => {
      const insert = analyzed.find((s) => s.sql.startsWith(`INSERT INTO \`${STAGING}.run_state\` VALUES`))!.sql;
      return rejects(insert.replace(/, (true|false), /, ', '), /Inserted row has wrong column count/);
    });
    it('a type mismatch into a NUMERIC column', () =>
      rejects(`INSERT INTO \`${MARTS}.cart_funnel_daily\` (date, revenue) VALUES (DATE '2026-11-01', 'twelve')`, /Value has type STRING which cannot be inserted into column revenue, which has type NUMERIC/));
    it('an unknown parameter', () => {
      const userKey = analyzed.find((s) => s.sql.includes('@cartlens_user_key_ipad'))!.sql;
      return rejects(userKey, /Query parameter 'cartlens_user_key_opad' not found/, { cartlens_user_key_ipad: 'BYTES' });
    });
    it('a table the catalog does not have', () => rejects(`SELECT * FROM \`${STAGING}.stg_event\``, /Table not found/));
  });
});
