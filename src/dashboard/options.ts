import type { LoadedConfig } from '../config/load.js';
import { createSource } from '../sources/index.js';
import { runStateKeys } from '../sources/source.js';
import { bigQuerySnapshotSource } from './copy-from-bigquery.js';
import { duckdbSnapshotSource } from './copy-from-duckdb.js';
import type { DashboardOptions } from './server.js';
import { viewFor } from './view.js';

/** The dashboard of a config: its warehouse read through the matching copy source, the view of its source's kind, its locale and links. */
export function dashboardOptions(
  { config, baseDir }: LoadedConfig,
  overrides: { host?: string | undefined; port?: number | undefined } = {},
  env: NodeJS.ProcessEnv = process.env,
): DashboardOptions {
  const source = createSource(config.source, baseDir);
  return {
    host: overrides.host ?? config.serve.host,
    port: overrides.port ?? config.serve.port,
    token: config.serve.token ?? (env.CARTLENS_SERVE_TOKEN || undefined),
    warehouse: config.warehouse.type === 'duckdb' ? duckdbSnapshotSource(config.warehouse.path) : bigQuerySnapshotSource(config.warehouse),
    runStateKeys: runStateKeys(source),
    view: viewFor(source, config.anomalies),
    format: { locale: config.locale, currency: config.property.currency },
    exportConfig: config.export,
  };
}
