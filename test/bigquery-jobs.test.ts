// BigQuery query jobs with the real @google-cloud/bigquery client against a scripted fake of the
// REST API: the faults (a lost response, a 400) and the job's own shape, with every answer named.
import { BigQuery } from '@google-cloud/bigquery';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BigQueryJobs, DEFAULT_MAXIMUM_BYTES_BILLED } from '../src/warehouse/bigquery/bigquery-jobs.js';
import { CartlensError } from '../src/util/errors.js';
import { FakeBigQuery } from './support/fake-bigquery.js';

let fake: FakeBigQuery;
let jobs: BigQueryJobs;
const step = { runId: '20261101T060000Z-abc123', step: 'cart_funnel_daily', date: '2026-11-01', sql: 'SELECT 7 AS x' };

beforeEach(async () => {
  // The two queries these tests send; the dry run's byte count is the fake's, made of the SQL.
  fake = new FakeBigQuery((sql) => {
    if (sql === step.sql) return { fields: [{ name: 'x', type: 'INTEGER' }], rows: [['7']], bytesProcessed: sql.length * 1000 };
    if (sql === 'SELECT @cartlens_user_key_ipad') return { fields: [{ name: 'f0_', type: 'BYTES' }], rows: [[Buffer.alloc(64, 0x36).toString('base64')]], bytesProcessed: 0 };
    return undefined;
  });
  const endpoint = await fake.start();
  const client = new BigQuery({ apiEndpoint: endpoint, projectId: 'my-project', autoRetry: true, maxRetries: 3 });
  jobs = new BigQueryJobs(client, { location: 'southamerica-east1', maximumBytesBilled: DEFAULT_MAXIMUM_BYTES_BILLED });
});

afterEach(() => fake.stop());

describe('BigQuery jobs', () => {
  it('runs a query under a job id made of run, step, date and attempt, with the cost guard', async () => {
    expect(await jobs.run(step)).toEqual([{ x: 7 }]);
    const [job] = fake.inserts;
    expect(job!.jobReference).toMatchObject({ projectId: 'my-project', jobId: 'cartlens_20261101T060000Z-abc123_cart_funnel_daily_20261101_a1', location: 'southamerica-east1' });
    expect(job!.configuration.query).toMatchObject({ useLegacySql: false, maximumBytesBilled: String(10 * 2 ** 30) });
  });

  it('a lost response after a successful insert does not start a second job', async () => {
    fake.inject({ kind: 'lose-response' });
    expect(await jobs.run(step)).toEqual([{ x: 7 }]);
    expect(fake.jobs.size).toBe(1);
    expect(fake.inserts.length).toBeGreaterThanOrEqual(2); // the client retried; BigQuery said 409
  });

  it('replaces a partition through its decorator with WRITE_TRUNCATE', async () => {
    await jobs.run({ ...step, replacePartition: { projectId: 'my-project', datasetId: 'cartlens_marts', tableId: 'cart_funnel_daily', date: '2026-11-01' } });
    expect(fake.inserts[0]!.configuration.query).toMatchObject({
      destinationTable: { projectId: 'my-project', datasetId: 'cartlens_marts', tableId: 'cart_funnel_daily$20261101' },
      writeDisposition: 'WRITE_TRUNCATE',
    });
  });

  it('passes the HMAC pads as BYTES query parameters, never in the SQL', async () => {
    const pad = Buffer.alloc(64, 0x36);
    await jobs.run({ ...step, sql: 'SELECT @cartlens_user_key_ipad', params: { cartlens_user_key_ipad: pad } });
    const query = fake.inserts[0]!.configuration.query!;
    expect(query.queryParameters).toEqual([{ name: 'cartlens_user_key_ipad', parameterType: { type: 'BYTES' }, parameterValue: { value: pad.toString('base64') } }]);
    expect(String(query.query)).not.toContain(pad.toString('hex'));
  });

  it('a dry run reads totalBytesProcessed and runs nothing', async () => {
    expect(await jobs.dryRun(step)).toBe(step.sql.length * 1000);
    expect(fake.jobs.size).toBe(0);
    expect(fake.inserts[0]!.configuration.dryRun).toBe(true);
  });

  it('a 400 is terminal and not retried', async () => {
    fake.inject({ kind: 'status', status: 400 }, 5);
    const error = await jobs.run(step).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CartlensError);
    expect((error as CartlensError).transient).toBe(false);
    expect(fake.inserts).toHaveLength(1);
  });
});
