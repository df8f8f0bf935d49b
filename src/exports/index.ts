import type { ExportConfig } from '../config/schema.js';
import type { Exporter } from './exporter.js';
import { LocalExporter } from './local/local-exporter.js';
import { GcsExporter } from './gcs/gcs-exporter.js';
import { openBucket } from './gcs/storage-client.js';

export function createExporter(config: ExportConfig): Exporter {
  switch (config.type) {
    case 'local':
      return new LocalExporter(config.dir);
    case 'gcs':
      return new GcsExporter(
        openBucket({ bucket: config.bucket, ...(config.api_endpoint ? { apiEndpoint: config.api_endpoint } : {}), maxRetries: config.max_retries, maxRetryDelaySeconds: config.max_retry_delay_seconds }),
        config.prefix,
      );
    default: {
      const unknown: never = config;
      throw new Error(`unknown export type ${(unknown as { type: string }).type}`);
    }
  }
}
