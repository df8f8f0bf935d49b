import { IdempotencyStrategy, Storage } from '@google-cloud/storage';
import type { GcsBucketLike } from './gcs-exporter.js';

export interface GcsClientOptions {
  bucket: string;
  /** An emulator's endpoint; production leaves it unset and authenticates with ADC. */
  apiEndpoint?: string;
  maxRetries: number;
  maxRetryDelaySeconds: number;
}

/**
 * The real client, with Application Default Credentials (never a key file) and retries only for
 * requests that are safe to repeat (those with preconditions: IdempotencyStrategy.RetryConditional).
 */
export function openBucket(options: GcsClientOptions): GcsBucketLike {
  const storage = new Storage({
    ...(options.apiEndpoint ? { apiEndpoint: options.apiEndpoint } : {}),
    retryOptions: {
      autoRetry: true,
      maxRetries: options.maxRetries,
      maxRetryDelay: options.maxRetryDelaySeconds,
      retryDelayMultiplier: 2,
      idempotencyStrategy: IdempotencyStrategy.RetryConditional,
    },
  });
  return storage.bucket(options.bucket);
}
