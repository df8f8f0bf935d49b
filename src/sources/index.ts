import type { SourceConfig } from '../config/schema.js';
import { DemoSource } from './demo/demo-source.js';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { Ga4ExportFilesSource } from './ga4-export-files/files-source.js';
import { inputFolderOf } from '../util/input-glob.js';
import { bigQueryExportSource } from './ga4-export-bigquery/bigquery-export-source.js';
import type { EventSource } from './source.js';

export function createSource(config: SourceConfig, baseDir: string): EventSource {
  switch (config.type) {
    case 'ga4-export-files':
      return new Ga4ExportFilesSource(config.path, baseDir, `ga4-export-files:${folderKey(inputFolderOf(config.path, baseDir), baseDir)}`, config.intraday);
    case 'demo':
      return new DemoSource({
        outDir: config.dir,
        days: config.days,
        sessionsPerDay: config.sessions_per_day,
        startDate: config.start_date,
        seed: config.seed,
        dirtyRate: config.dirty_rate,
      }, `demo:${folderKey(config.dir, baseDir)}`);
    case 'ga4-export-bigquery':
      return bigQueryExportSource(config.project, config.dataset, config.intraday);
    case 'ga4-data-api':
      return { kind: 'ga4-data-api', description: `GA4 Data API ${config.property}`, identity: `ga4-data-api:${config.property}`, property: config.property };
    default: {
      const unknown: never = config;
      throw new Error(`unknown source type ${(unknown as { type: string }).type}`);
    }
  }
}

/**
 * A folder as run history names it: relative to the config's folder when inside it (so moving
 * the project keeps its history), absolute otherwise; `/` separators either way.
 */
function folderKey(folder: string, baseDir: string): string {
  const path = relative(resolve(baseDir), resolve(baseDir, folder));
  const inside = !isAbsolute(path) && path !== '..' && !path.startsWith(`..${sep}`);
  return (inside ? path || '.' : resolve(baseDir, folder)).split(sep).join('/');
}
