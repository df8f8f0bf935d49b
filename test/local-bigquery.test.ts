// The local BigQuery of `cartlens dev gcp` (src/dev/gcp/), through the real @google-cloud/bigquery
// client and cartlens' own BigQueryJobs: ZetaSQL's reference engine computes every row; the shim
// keeps tables, sessions and transactions. Skipped loudly where the engine cannot run, never on CI.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BigQuery } from '@google-cloud/bigquery';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalGcp } from '../src/dev/gcp/local-gcp.js';
import { serveLocalGcp } from '../src/dev/gcp/serve.js';
import { CartlensError } from '../src/util/errors.js';
import { BigQueryJobs } from '../src/warehouse/bigquery/bigquery-jobs.js';
import { exportTablesOfSql, listExportTablesSql, readExportSql } from '../src/warehouse/bigquery/staging-sql.js';
import { ev, item, tempDir } from './support/pipeline.js';
import { describeWithZetaSql } from './support/zetasql/guard.js';

const PROJECT = 'shop';
const T = '`shop.sales.t`';

describeWithZetaSql('the local BigQuery, through the real client', () => {
  let gcp: LocalGcp;
  let client: BigQuery;
  let step = 0;
  /** cartlens' own job runner, in a session of its own when asked. */
  const jobsOf = (session = false) => new BigQueryJobs(client, { location: 'US', maximumBytesBilled: 1e12, session });
  const run = (jobs: BigQueryJobs, sql: string) => jobs.run({ runId: 'test', step: String(++step), sql });
  const failure = async (work: Promise<unknown>) => {
    const error = await work.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error, 'expected a failure').toBeInstanceOf(CartlensError);
    return error as CartlensError;
  };

  beforeAll(async () => {
    const dir = await tempDir();
    // Two days of GA4 export, and an intraday table, as `dev gcp --data` loads them.
    await mkdir(join(dir, 'in'));
    const lines = (events: unknown[]) => gzipSync(events.map((e) => `${JSON.stringify(e)}\n`).join(''));
    await writeFile(join(dir, 'in', 'events_20261101.json.gz'), lines([ev('add_to_cart', { items: [item('A')] }), ev('purchase', { at: 5 })]));
    await writeFile(join(dir, 'in', 'events_20261102.json.gz'), lines([ev('view_item', { date: '20261102' })]));
    await writeFile(join(dir, 'in', 'events_intraday_20261103.json.gz'), lines([ev('view_item', { date: '20261103' })]));
    gcp = await LocalGcp.create({ project: PROJECT, dataset: 'analytics_1' });
    await gcp.loadExportFiles(join(dir, 'in', 'events_*.json.gz'));
    client = new BigQuery({ projectId: PROJECT, location: 'US', apiEndpoint: await gcp.listen() });
    await run(jobsOf(), `CREATE TABLE ${T} (n INT64 NOT NULL, label STRING); INSERT INTO ${T} SELECT n, CONCAT('row ', CAST(n AS STRING)) FROM UNNEST(GENERATE_ARRAY(1, 25)) AS n`);
  });

  afterAll(async () => {
    await gcp?.stop();
  });

  it('answers a query page by page, each value typed as BigQuery types it', async () => {
    const [job] = await client.createQueryJob({
      query: `SELECT n, CAST(n AS NUMERIC) / 4 AS quarter, DATE_ADD(DATE '2026-11-01', INTERVAL n DAY) AS day,
        TIMESTAMP_SECONDS(1793491200 + n) AS moment, STRUCT(label AS name, [n, n * 2] AS pair) AS info, n / 0.5 AS twice
        FROM ${T} ORDER BY n`,
    });
    const pages = [];
    for (let options: object | null = { maxResults: 10, autoPaginate: false }; options; ) {
      const [rows, next]: [Record<string, unknown>[], object | null] = (await job.getQueryResults(options)) as never;
      pages.push(rows.map((row) => row.n));
      options = next;
    }
    expect(pages).toEqual([0, 10, 20].map((from) => Array.from({ length: Math.min(10, 25 - from) }, (_, i) => from + i + 1)));
    const [all] = await job.getQueryResults();
    const row = all[0]!;
    expect(String(row.quarter)).toBe('0.25');
    expect(row.day.value).toBe('2026-11-02');
    expect(row.moment.value).toBe('2026-11-01T00:00:01.000Z');
    expect(row.info).toEqual({ name: 'row 1', pair: [1, 2] });
    expect(row.twice).toBe(2);
    // cartlens asks for no page size: pages of 10,000 rows, which the client follows to the end.
    expect((await run(jobsOf(), 'SELECT a * 1000 + b AS n FROM UNNEST(GENERATE_ARRAY(0, 24)) AS a, UNNEST(GENERATE_ARRAY(1, 1000)) AS b')).length).toBe(25000);
  });

  it('rolls back a multi-statement transaction whose statement fails, as a whole', async () => {
    const before = await run(jobsOf(), `SELECT COUNT(*) AS count, SUM(n) AS total FROM ${T}`);
    const error = await failure(run(jobsOf(), `BEGIN TRANSACTION; DELETE FROM ${T} WHERE n > 5; INSERT INTO ${T} (n) VALUES (100); SELECT 1 / 0; COMMIT TRANSACTION`));
    expect(error.message).toMatch(/division by zero/);
    expect(await run(jobsOf(), `SELECT COUNT(*) AS count, SUM(n) AS total FROM ${T}`)).toEqual(before);
    // Across the jobs of a session (what BigQueryWarehouse.transaction sends): the same, and a commit keeps.
    const session = jobsOf(true);
    await run(session, 'BEGIN TRANSACTION');
    await run(session, `DELETE FROM ${T} WHERE n > 5`);
    expect(await run(session, `SELECT COUNT(*) AS count FROM ${T}`)).toEqual([{ count: 5 }]);
    await run(session, 'ROLLBACK TRANSACTION');
    expect(await run(session, `SELECT COUNT(*) AS count, SUM(n) AS total FROM ${T}`)).toEqual(before);
    await run(session, 'BEGIN TRANSACTION');
    await run(session, `UPDATE ${T} SET label = 'first' WHERE n = 1`);
    await run(session, 'COMMIT TRANSACTION');
    expect(await run(jobsOf(), `SELECT label FROM ${T} WHERE n = 1`)).toEqual([{ label: 'first' }]);
    // A transaction a query leaves open is rolled back with it, and DDL on permanent tables cannot run in one.
    await expect(run(jobsOf(), `BEGIN TRANSACTION; DELETE FROM ${T} WHERE TRUE`)).rejects.toThrow(/was not committed/);
    await expect(run(jobsOf(), `BEGIN TRANSACTION; CREATE TABLE \`shop.sales.u\` (x INT64); COMMIT TRANSACTION`)).rejects.toThrow(/not supported in a transaction/);
    expect(await run(jobsOf(), `SELECT COUNT(*) AS count FROM ${T}`)).toEqual([{ count: 25 }]);
  });

  it("isolates sessions' transactions: others see only committed rows, a rollback keeps others' commits, a concurrent commit aborts", async () => {
    const table = '`shop.sales.isolated`';
    await run(jobsOf(), `CREATE TABLE ${table} (n INT64)`);
    const count = async (jobs: BigQueryJobs) => ((await run(jobs, `SELECT COUNT(*) AS count FROM ${table}`)) as { count: number }[])[0]!.count;
    const [a, b] = [jobsOf(true), jobsOf(true)];
    await run(a, 'BEGIN TRANSACTION');
    await run(a, `INSERT INTO ${table} (n) VALUES (1)`);
    expect(await count(a)).toBe(1);
    // A's row is not committed: B, and a job outside any session, do not see it.
    expect(await count(b)).toBe(0);
    expect(await count(jobsOf())).toBe(0);
    await run(b, 'BEGIN TRANSACTION');
    await run(b, `INSERT INTO ${table} (n) VALUES (2)`);
    await run(b, 'COMMIT TRANSACTION');
    // A reads the snapshot it began with; ending it discards its row and keeps B's.
    expect(await run(a, `SELECT n FROM ${table} ORDER BY n`)).toEqual([{ n: 1 }]);
    await run(a, 'ROLLBACK TRANSACTION');
    expect(await run(jobsOf(), `SELECT n FROM ${table}`)).toEqual([{ n: 2 }]);
    // A commit of a table someone else committed since BEGIN fails as BigQuery's does, and publishes nothing.
    await run(a, 'BEGIN TRANSACTION');
    await run(a, `UPDATE ${table} SET n = 10 WHERE TRUE`);
    await run(b, `INSERT INTO ${table} (n) VALUES (3)`);
    const aborted = await failure(run(a, 'COMMIT TRANSACTION'));
    expect(aborted.message).toMatch(/\(invalidQuery\): Transaction is aborted due to concurrent update against table shop\.sales\.isolated/);
    expect(await run(a, `SELECT n FROM ${table} ORDER BY n`)).toEqual([{ n: 2 }, { n: 3 }]);
    // A session ended with its transaction open leaves the committed rows as they are.
    await run(b, 'BEGIN TRANSACTION');
    await run(b, `DELETE FROM ${table} WHERE TRUE`);
    await run(b, 'CALL BQ.ABORT_SESSION()');
    expect(await count(jobsOf())).toBe(2);
  });

  it('keeps temporary tables per session, and BQ.ABORT_SESSION() ends the session', async () => {
    const session = jobsOf(true);
    await run(session, 'CREATE TEMP TABLE _picked AS SELECT n FROM ' + T + ' WHERE n <= 3');
    expect(await run(session, 'SELECT SUM(n) AS total FROM _picked')).toEqual([{ total: 6 }]);
    const elsewhere = await failure(run(jobsOf(true), 'SELECT * FROM _picked'));
    expect(elsewhere.message).toMatch(/notFound.*Not found: Table _picked/);
    await run(session, 'CALL BQ.ABORT_SESSION()');
    expect((await failure(run(session, 'SELECT 1 AS one'))).message).toMatch(/has been terminated/);
  });

  it("answers a statement ZetaSQL rejects as BigQuery does (invalidQuery in the job's status), and cartlens classifies it as terminal", async () => {
    const [metadata] = await client
      .createQueryJob({ query: `SELECT nope FROM ${T}` })
      .then(() => [undefined], (error: { response?: unknown }) => [error.response as { status: { errorResult: { reason: string; message: string } } }]);
    expect(metadata?.status.errorResult).toMatchObject({ reason: 'invalidQuery', message: expect.stringMatching(/Unrecognized name: nope/) });
    const invalid = await failure(run(jobsOf(), `SELECT nope FROM ${T}`));
    expect(invalid.transient).toBe(false);
    expect(invalid.message).toMatch(/failed \(invalidQuery\): Unrecognized name: nope/);
    expect(invalid.hint).toMatch(/the SQL or the tables it reads are wrong/);
    const missing = await failure(run(jobsOf(), 'SELECT * FROM `shop.sales.missing`'));
    expect(missing.transient).toBe(false);
    expect(missing.message).toMatch(/\(notFound\): Not found: Table shop.sales.missing/);
  });

  it("reads the export as cartlens does: INFORMATION_SCHEMA.TABLES lists the daily tables, a wildcard with _TABLE_SUFFIX reads some", async () => {
    const jobs = jobsOf();
    expect(await run(jobs, listExportTablesSql(`${PROJECT}.analytics_1`))).toEqual([{ table_name: 'events_20261101' }, { table_name: 'events_20261102' }]);
    expect(await run(jobs, exportTablesOfSql(`${PROJECT}.analytics_1`, ['20261102', '20261105']))).toEqual([{ table_name: 'events_20261102' }]);
    const read = await run(jobs, `SELECT table_suffix, event_name, session_id, items FROM (${readExportSql(`${PROJECT}.analytics_1`, { daily: ['20261101'], intraday: [] })}) ORDER BY event_timestamp`);
    expect(read).toEqual([
      { table_suffix: '20261101', event_name: 'add_to_cart', session_id: 100, items: [expect.objectContaining({ item_id: 'A', quantity: 1, item_index: 1 })] },
      { table_suffix: '20261101', event_name: 'purchase', session_id: 100, items: [] },
    ]);
    const [tables] = (await run(jobs, `SELECT COUNT(*) AS tables, SUM(row_count) AS row_count FROM \`${PROJECT}.analytics_1.__TABLES__\``)) as { tables: number; row_count: number }[];
    expect(tables).toEqual({ tables: 3, row_count: 4 });
  });

  it('prices a dry run from the sizes of the tables it names, marked as an upper bound', async () => {
    const [job] = await client.createQueryJob({ query: `SELECT n FROM ${T}`, dryRun: true });
    const statistics = job.metadata.statistics as { query: { totalBytesProcessed: string; totalBytesProcessedAccuracy: string } };
    // 25 rows of an INT64 (8 bytes) and a STRING (2 + its length): the whole table, not just n.
    expect(statistics.query).toMatchObject({ totalBytesProcessed: String(25 * 8 + 25 * 2 + 'row 1'.length * 9 + 'row 10'.length * 16), totalBytesProcessedAccuracy: 'UPPER_BOUND' });
    expect(await jobsOf().dryRun({ runId: 'test', step: 'dry', sql: 'SELECT 1 AS one' })).toBe(0);
  });

  it('reads a table as of a moment (FOR SYSTEM_TIME AS OF) from the versions it kept', async () => {
    await run(jobsOf(), 'CREATE TABLE `shop.sales.versions` AS SELECT 1 AS x');
    const [{ moment }] = (await run(jobsOf(), "SELECT CAST(CURRENT_TIMESTAMP() AS STRING) AS moment")) as [{ moment: string }];
    await run(jobsOf(), 'INSERT INTO `shop.sales.versions` (x) VALUES (2)');
    const asOf = `FOR SYSTEM_TIME AS OF TIMESTAMP '${moment}'`;
    expect(await run(jobsOf(), `SELECT (SELECT SUM(x) FROM \`shop.sales.versions\` ${asOf}) AS before, (SELECT SUM(x) FROM \`shop.sales.versions\`) AS after`)).toEqual([{ before: 1, after: 3 }]);
    await expect(run(jobsOf(), "SELECT x FROM `shop.sales.versions` FOR SYSTEM_TIME AS OF TIMESTAMP '2000-01-01'")).rejects.toThrow(/invalidQuery.*Invalid snapshot time/);
  });

  it('maps APPROX_QUANTILES, which the reference engine lacks, to exact quantiles', async () => {
    const median = (values: string) => run(jobsOf(), `SELECT APPROX_QUANTILES(x, 2)[OFFSET(1)] AS m, APPROX_QUANTILES(x, 4) AS q FROM UNNEST(${values}) AS x`);
    expect(await median('[5, 1, 4, NULL, 2, 3]')).toEqual([{ m: 3, q: [1, 2, 3, 4, 5] }]);
    expect(await median('[40, 10, 30, 20]')).toEqual([{ m: 20, q: [10, 10, 20, 30, 40] }]);
    expect(await median('CAST([] AS ARRAY<INT64>)')).toEqual([{ m: null, q: [] }]);
  });

  it("answers CURRENT_TIMESTAMP() and CURRENT_DATE(zone) by this process's clock, the one time travel reads", async () => {
    const before = Date.now();
    const [row] = (await run(jobsOf(), "SELECT UNIX_MICROS(CURRENT_TIMESTAMP()) AS micros, CAST(CURRENT_DATE('UTC') AS STRING) AS day, CAST(CURRENT_DATE('Pacific/Kiritimati') AS STRING) AS east")) as { micros: number | string; day: string; east: string }[];
    const after = Date.now();
    const at = Number(row!.micros) / 1000;
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(after);
    expect(row!.day).toBe(new Date(at).toISOString().slice(0, 10));
    // UTC+14: the zone is applied, never dropped.
    expect(row!.east).toBe(new Date(at + 14 * 3_600_000).toISOString().slice(0, 10));
  });

  it('loads newline-delimited JSON from the local Cloud Storage, all or nothing', async () => {
    await run(jobsOf(), 'CREATE TABLE `shop.sales.pages` (page INT64 NOT NULL, date DATE, response JSON)');
    gcp.storage.putObject('bucket', 'pages/p1.json', '{"page": 1, "date": "2026-11-01", "response": {"rows": [1, 2]}}\n');
    gcp.storage.putObject('bucket', 'pages/p2.json', '{"page": 2, "date": "2026-11-01", "response": null}\n');
    gcp.storage.putObject('bucket', 'bad/p3.json', '{"page": 3}\n{"page": "three"}\n');
    const destination = { projectId: PROJECT, datasetId: 'sales', tableId: 'pages' };
    await jobsOf().load({ runId: 'test', step: 'load', sourceUris: ['gs://bucket/pages/p1.json', 'gs://bucket/pages/p2.json'], destination });
    expect(await run(jobsOf(), 'SELECT page, JSON_VALUE(response, "$.rows[1]") AS second FROM `shop.sales.pages` ORDER BY page')).toEqual([
      { page: 1, second: '2' },
      { page: 2, second: null },
    ]);
    const bad = await failure(jobsOf().load({ runId: 'test', step: 'bad', sourceUris: ['gs://bucket/bad/p3.json'], destination }));
    expect(bad.transient).toBe(false);
    expect(bad.message).toMatch(/\(invalid\).*p3\.json: 1 page is not an INT64 \(line 2\)/);
    expect(await run(jobsOf(), 'SELECT COUNT(*) AS count FROM `shop.sales.pages`')).toEqual([{ count: 2 }]);
  });

  it('runs a statement that reads one large table row by row in chunks, and refuses one that cannot be split with the reason', async () => {
    // About 5 MiB of rows: more than the engine takes in one request (4 MiB).
    await run(jobsOf(), "CREATE TABLE `shop.sales.big` AS SELECT n, REPEAT('x', 1000) AS filler FROM UNNEST(GENERATE_ARRAY(1, 5000)) AS n");
    expect(await run(jobsOf(), 'CREATE TEMP TABLE _x AS SELECT n, LENGTH(filler) AS width FROM `shop.sales.big` WHERE MOD(n, 1000) = 0; SELECT * FROM _x ORDER BY n')).toEqual(
      [1000, 2000, 3000, 4000, 5000].map((n) => ({ n, width: 1000 })),
    );
    const refused = await failure(run(jobsOf(), 'SELECT COUNT(DISTINCT filler) AS distinct_fillers FROM `shop.sales.big`'));
    expect(refused.transient).toBe(false);
    expect(refused.message).toMatch(/\(resourcesExceeded\): the statement's tables make a \d\.\d MiB request, more than the 4 MiB ZetaSQL's local engine takes: `?shop\.sales\.big`? \(5000 rows\)/);
  });
});

describe("BigQuery's errors, classified by their reason", () => {
  const outcome = (error: Error) =>
    new BigQueryJobs({ createJob: async () => Promise.reject(error), job: () => undefined } as never, { location: 'US', maximumBytesBilled: 1 })
      .run({ runId: 'r', step: 's', sql: 'SELECT 1' })
      .then(
        () => undefined,
        (e: unknown) => e as CartlensError,
      );
  const apiError = (message: string, code: number | undefined, reason: string) => Object.assign(new Error(message), { code, errors: [{ reason, message }] });

  it('a rate limit, which BigQuery answers with a 403, is transient; a refusal, bad SQL and a missing table are not', async () => {
    expect(await outcome(apiError('Exceeded rate limits: too many table update operations', 403, 'rateLimitExceeded'))).toMatchObject({ transient: true, hint: 'a temporary BigQuery problem: run again' });
    expect(await outcome(apiError('Access Denied: Table x', 403, 'accessDenied'))).toMatchObject({ transient: false, message: expect.stringMatching(/was refused \(403 accessDenied\)/) });
    // In a job's status: no HTTP status at all, only the reason.
    expect(await outcome(apiError('Syntax error: Unexpected keyword THEN', undefined, 'invalidQuery'))).toMatchObject({ transient: false });
    expect(await outcome(apiError('Not found: Table p:d.t', undefined, 'notFound'))).toMatchObject({ transient: false });
    expect(await outcome(apiError('Backend error', undefined, 'backendError'))).toMatchObject({ transient: true });
    expect(await outcome(apiError('Internal error', 500, 'internalError'))).toMatchObject({ transient: true });
  });
});

describe('cartlens dev gcp where ZetaSQL ships no engine', () => {
  it('fails with one clear line before starting anything', async () => {
    const platform = Object.getOwnPropertyDescriptor(process, 'platform')!;
    Object.defineProperty(process, 'platform', { value: 'win32' });
    try {
      const refused = serveLocalGcp({ data: 'none/*.json', project: 'p', dataset: 'd', storageDir: 'unused', port: '0' });
      await expect(refused).rejects.toThrow(/^cartlens dev gcp cannot run here: @fivetrandevelopers\/zetasql ships its ZetaSQL server for Linux and macOS on x64 and arm64 only, not win32-/);
      await expect(refused).rejects.toBeInstanceOf(CartlensError);
    } finally {
      Object.defineProperty(process, 'platform', platform);
    }
  });
});
