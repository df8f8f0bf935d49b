import type { ExportConfig } from '../config/schema.js';
import type { Exporter } from './exporter.js';
import { LocalExporter } from './local/local-exporter.js';

export function createExporter(config: ExportConfig): Exporter {
  switch (config.type) {
    case 'local':
      return new LocalExporter(config.dir);
    default: {
      const unknown: never = config.type;
      throw new Error(`unknown export type ${String(unknown)}`);
    }
  }
}
