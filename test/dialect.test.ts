// One dialect per run: the run's plan builds it (dialectFor) and the warehouse it opens writes SQL
// in that same object. Its timestamp literal means the same instant on both engines.
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { dialectFor, openWarehouse } from '../src/warehouse/index.js';
import { RecordingGcp } from './support/local-gcp.js';
import { ev, item, runOn, tempDir } from './support/pipeline.js';
import { describeWithZetaSql } from './support/zetasql/guard.js';

// Every DuckDB dialect built, wherever: a module that builds its own shows up here.
const built = vi.hoisted(() => ({ duckdbDialects: [] as object[] }));
vi.mock('../src/warehouse/duckdb/duckdb-dialect.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../src/warehouse/duckdb/duckdb-dialect.js')>();
  class CountedDuckDbDialect extends original.DuckDbDialect {
    constructor() {
      super();
      built.duckdbDialects.push(this);
    }
  }
  return { ...original, DuckDbDialect: CountedDuckDbDialect };
});

const INSTANTS = ['2026-11-01T03:00:00.000Z', '1970-01-01T00:00:00.000Z', '2024-02-29T23:59:59.999Z', '0001-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z', '2026-03-08T02:30:00.123Z'].map((iso) => new Date(iso));
const BIGQUERY = dialectFor({ type: 'bigquery', project: 'shop', staging_dataset: 'cartlens_staging', marts_dataset: 'cartlens_marts' });
const DUCKDB = dialectFor({ type: 'duckdb' });

describe('one dialect per run', () => {
  it('a run builds one dialect, and its warehouse writes SQL in it', async () => {
    const before = built.duckdbDialects.length;
    const result = await runOn({ 'a.json': [ev('session_start'), ev('add_to_cart', { at: 5, items: [item('A')] })] });
    expect(await result.csv('cart_funnel_daily', '2026-11-01')).toHaveLength(1);
    expect(built.duckdbDialects.length - before).toBe(1);
  });

  it('an opened warehouse holds the dialect it was given, and refuses another warehouse’s', async () => {
    const dir = await tempDir();
    const config = { type: 'duckdb', path: `${dir}/w.duckdb`, memory_limit: '256MB', lock_wait_seconds: 1 } as const;
    const dialect = dialectFor(config);
    const warehouse = await openWarehouse(config, dialect);
    try {
      expect(warehouse.dialect).toBe(dialect);
    } finally {
      await warehouse.close();
    }
    await expect(openWarehouse({ ...config, path: `${dir}/x.duckdb` }, BIGQUERY)).rejects.toThrow(/DuckDB SQL, not bigquery/);
  });
});

describe('timestampLiteral', () => {
  it('is UTC wall time to the millisecond, and refuses what neither TIMESTAMP holds', () => {
    expect(DUCKDB.timestampLiteral(new Date('2026-11-01T03:00:00.120Z'))).toBe("TIMESTAMP '2026-11-01 03:00:00.120'");
    expect(BIGQUERY.timestampLiteral(new Date('2026-11-01T03:00:00.120Z'))).toBe("TIMESTAMP '2026-11-01 03:00:00.120'");
    expect(() => DUCKDB.timestampLiteral(new Date('+010000-01-01T00:00:00Z'))).toThrow(/not a timestamp/);
    expect(() => DUCKDB.timestampLiteral(new Date(Number.NaN))).toThrow();
  });

  it('reads back as the same instant on DuckDB', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      // A session in another time zone: the literal must not be read in it.
      await connection.run("SET TimeZone = 'America/Sao_Paulo'");
      const select = INSTANTS.map((instant, i) => `strftime(${DUCKDB.timestampLiteral(instant)}, '%Y-%m-%dT%H:%M:%S.%gZ') AS t${i}`).join(', ');
      const [row] = (await connection.runAndReadAll(`SELECT ${select}`)).getRowsJson();
      expect(row).toEqual(INSTANTS.map((instant) => instant.toISOString()));
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });
});

describeWithZetaSql('timestampLiteral on the local BigQuery', () => {
  let gcp: RecordingGcp;
  beforeAll(async () => {
    gcp = await RecordingGcp.start({ project: 'shop', dataset: 'analytics_1' });
  }, 60_000);
  afterAll(async () => {
    await gcp?.stop();
  });

  it('reads back as the same instant', async () => {
    const select = INSTANTS.map((instant, i) => `FORMAT_TIMESTAMP('%E4Y-%m-%dT%H:%M:%E3SZ', ${BIGQUERY.timestampLiteral(instant)}, 'UTC') AS t${i}`).join(', ');
    const [row] = await gcp.query(`SELECT ${select}`);
    expect(Object.values(row!)).toEqual(INSTANTS.map((instant) => instant.toISOString()));
  });
});

describe('first_by and last_non_null_by on DuckDB', () => {
  it('order by a row of two BIGINTs exactly as a row would, at the ends of BIGINT too (the first part above its minimum)', async () => {
    const BIG = 9223372036854775807n;
    // (order a, order b, value): every order of the two parts, with ties on the first broken by the second.
    const rows: [bigint, bigint, string][] = [
      [5n, 2n, 'b'], [5n, -BIG - 1n, 'a'], [5n, BIG, 'c'], [-BIG, BIG, 'lowest'], [BIG, -BIG - 1n, 'highest'], [0n, 0n, 'zero'], [-1n, BIG, 'minus one'],
    ];
    const values = rows.map(([a, b, v]) => `((${a})::BIGINT, (${b})::BIGINT, '${v}')`).join(', ');
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      const groups = [['lowest', 'highest'], ['b', 'a', 'c'], ['zero', 'minus one']];
      for (const names of groups) {
        const sql = `SELECT ${DUCKDB.firstBy('v', '(a, b)')} AS first, ${DUCKDB.lastNonNullBy('v', '(a, b)')} AS last,
                            arg_min(v, (a, b)) AS first_by_row, arg_max(v, (a, b)) AS last_by_row
                     FROM (VALUES ${values}) AS t(a, b, v) WHERE v IN (${names.map((n) => `'${n}'`).join(', ')})`;
        const [row] = (await connection.runAndReadAll(sql)).getRowObjectsJson();
        expect(row!.first, names.join()).toBe(row!.first_by_row);
        expect(row!.last, names.join()).toBe(row!.last_by_row);
      }
      // The packed key is used, not the row (a row keeps a sort key per group that DuckDB cannot spill).
      expect(DUCKDB.firstBy('v', '(a, b)')).not.toContain('(a, b)');
      expect(DUCKDB.firstBy('v', '(a, b, c)')).toContain('(a, b, c)');
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });
});
