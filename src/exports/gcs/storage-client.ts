import { IdempotencyStrategy, Storage, type Bucket } from '@google-cloud/storage';

export interface GcsClientOptions {
  bucket: string;
  /** An emulator's endpoint; production leaves it unset and authenticates with ADC. */
  apiEndpoint?: string;
  maxRetries: number;
  maxRetryDelaySeconds: number;
  projectId?: string;
}

/**
 * The real client, with Application Default Credentials (never a key file) and retries only for
 * requests that are safe to repeat (those with preconditions: IdempotencyStrategy.RetryConditional).
 */
export function openBucket(options: GcsClientOptions): Bucket {
  const storage = new Storage({
    ...(options.apiEndpoint ? { apiEndpoint: options.apiEndpoint } : {}),
    ...(options.projectId ? { projectId: options.projectId } : {}),
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
