import type { ExportConfig } from '../config/schema.js';
import type { Exporter } from './exporter.js';
import { LocalExporter } from './local/local-exporter.js';

/** The configured exporter. Cloud Storage's client library is loaded only when the export is there. */
export async function createExporter(config: ExportConfig): Promise<Exporter> {
  switch (config.type) {
    case 'local':
      return new LocalExporter(config.dir);
    case 'gcs': {
      const [{ GcsExporter }, { openBucket }] = await Promise.all([import('./gcs/gcs-exporter.js'), import('./gcs/storage-client.js')]);
      return new GcsExporter(
        openBucket({ bucket: config.bucket, ...(config.api_endpoint ? { apiEndpoint: config.api_endpoint } : {}), maxRetries: config.max_retries, maxRetryDelaySeconds: config.max_retry_delay_seconds }),
        config.prefix,
      );
    }
    default: {
      const unknown: never = config;
      throw new Error(`unknown export type ${(unknown as { type: string }).type}`);
    }
  }
}
