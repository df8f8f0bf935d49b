import type { WarehouseConfig } from '../config/schema.js';
import { DuckDbWarehouse } from './duckdb/duckdb-warehouse.js';
import type { Warehouse } from './warehouse.js';

export async function openWarehouse(config: WarehouseConfig): Promise<Warehouse> {
  switch (config.type) {
    case 'duckdb':
      return DuckDbWarehouse.open({ path: config.path, memoryLimit: config.memory_limit, ...(config.threads ? { threads: config.threads } : {}) });
    default: {
      const unknown: never = config.type;
      throw new Error(`unknown warehouse type ${String(unknown)}`);
    }
  }
}
