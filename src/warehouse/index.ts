import type { WarehouseConfig } from '../config/schema.js';
import { DuckDbWarehouse } from './duckdb/duckdb-warehouse.js';
import { BigQueryWarehouse } from './bigquery/bigquery-warehouse.js';
import type { Warehouse } from './warehouse.js';
import type { Dialect, MaterializationDialect } from './dialect.js';
import { DuckDbDialect } from './duckdb/duckdb-dialect.js';
import { BigQueryDialect } from './bigquery/bigquery-dialect.js';

/**
 * What a warehouse allows before it is opened. `concurrentRuns`: several runs at once (BigQuery:
 * each in its own session); DuckDB has one writer per file.
 */
export function warehouseCapabilities(config: WarehouseConfig): { concurrentRuns: boolean } {
  return { concurrentRuns: config.type === 'bigquery' };
}

/** The warehouses cartlens compiles SQL for. */
export const DIALECT_NAMES = ['duckdb', 'bigquery'] as const;

/** What a dialect is built from: the warehouse's type and, for BigQuery, where its datasets are. */
export type DialectConfig =
  | Pick<Extract<WarehouseConfig, { type: 'duckdb' }>, 'type'>
  | Pick<Extract<WarehouseConfig, { type: 'bigquery' }>, 'type' | 'project' | 'staging_dataset' | 'marts_dataset'>;

/**
 * The SQL dialect of a configured warehouse — the one place a dialect is built: a run builds one
 * (its plan's) and hands it to the warehouse it opens. `as` compiles for another warehouse than the
 * config's (`cartlens compile --dialect`), with placeholder datasets.
 */
export function dialectFor(config: Extract<DialectConfig, { type: 'duckdb' }>): DuckDbDialect;
export function dialectFor(config: Extract<DialectConfig, { type: 'bigquery' }>): BigQueryDialect;
export function dialectFor(config: DialectConfig, as?: (typeof DIALECT_NAMES)[number]): Dialect & MaterializationDialect;
export function dialectFor(config: DialectConfig, as: (typeof DIALECT_NAMES)[number] = config.type): Dialect & MaterializationDialect {
  if (as !== config.type) {
    return dialectFor(as === 'duckdb' ? { type: 'duckdb' } : { type: 'bigquery', project: 'PROJECT', staging_dataset: 'cartlens_staging', marts_dataset: 'cartlens_marts' });
  }
  switch (config.type) {
    case 'duckdb':
      return new DuckDbDialect();
    case 'bigquery':
      return new BigQueryDialect({ staging: `${config.project}.${config.staging_dataset}`, marts: `${config.project}.${config.marts_dataset}` });
    default: {
      const unknown: never = config;
      throw new Error(`unknown warehouse type ${(unknown as { type: string }).type}`);
    }
  }
}

/** Opens the configured warehouse, which writes its SQL in `dialect` (the run's: dialectFor of the same config). */
export async function openWarehouse(config: WarehouseConfig, dialect: Dialect & MaterializationDialect): Promise<Warehouse> {
  switch (config.type) {
    case 'duckdb':
      return DuckDbWarehouse.open({ path: config.path, memoryLimit: config.memory_limit, lockWaitMs: config.lock_wait_seconds * 1000, ...(config.threads ? { threads: config.threads } : {}) }, dialect);
    case 'bigquery':
      return BigQueryWarehouse.open(
        {
          project: config.project,
          location: config.location,
          stagingDataset: config.staging_dataset,
          martsDataset: config.marts_dataset,
          maximumBytesBilled: config.maximum_bytes_billed,
          ...(config.api_endpoint ? { apiEndpoint: config.api_endpoint } : {}),
        },
        dialect,
      );
    default: {
      const unknown: never = config;
      throw new Error(`unknown warehouse type ${(unknown as { type: string }).type}`);
    }
  }
}
