import type { Bucket, BucketMetadata as SdkBucketMetadata, CreateBucketRequest } from '@google-cloud/storage';
import type { ExportConfig } from '../../config/schema.js';
import { openBucket } from '../../exports/gcs/storage-client.js';
import { CartlensError } from '../../util/errors.js';
import { desiredMetadata, type BucketChange, type BucketMetadata, type BucketRules } from './bucket-rules.js';

/** The slice of the Storage SDK that reads and changes a bucket's settings. */
export type BucketAdminLike = Pick<Bucket, 'name' | 'getMetadata' | 'setMetadata' | 'create'>;

/** Where raw input lands in the bucket: at its root, never under the export prefix that BI readers may read. */
export const RAW_PREFIX = '_raw/';

export function rulesFromConfig(config: Extract<ExportConfig, { type: 'gcs' }>, landedDays = 30): BucketRules {
  return {
    bucket: config.bucket,
    location: config.location,
    deleteAfterDays: config.delete_after_days,
    storageClassSteps: config.storage_class_steps.map((s) => ({ afterDays: s.after_days, storageClass: s.class })),
    softDeleteDays: config.soft_delete_days,
    exportPrefix: config.prefix,
    incomingPrefix: `${config.prefix}_incoming/`,
    rawPrefix: RAW_PREFIX,
    rawDeleteAfterDays: landedDays,
  };
}

export function bucketFromConfig(config: Extract<ExportConfig, { type: 'gcs' }>): BucketAdminLike {
  return openBucket({
    bucket: config.bucket,
    ...(config.api_endpoint ? { apiEndpoint: config.api_endpoint } : {}),
    ...(config.project ? { projectId: config.project } : {}),
    maxRetries: config.max_retries,
    maxRetryDelaySeconds: config.max_retry_delay_seconds,
  });
}

/** The live bucket's settings, or undefined when it does not exist. */
export async function readLiveBucket(bucket: BucketAdminLike): Promise<BucketMetadata | undefined> {
  try {
    const [metadata] = await bucket.getMetadata();
    return metadata as BucketMetadata;
  } catch (error) {
    if ((error as { code?: number }).code === 404) return undefined;
    throw new CartlensError(`cannot read gs://${bucket.name}: ${(error as Error).message}`, 'check Application Default Credentials and the bucket name', false, { cause: error });
  }
}

/** Applies the plan: creates the bucket, or patches what differs. A location change is refused. */
export async function applyBucket(bucket: BucketAdminLike, rules: BucketRules, changes: BucketChange[]): Promise<void> {
  const impossible = changes.filter((c) => c.kind === 'impossible');
  if (impossible.length > 0) {
    throw new CartlensError(
      `gs://${rules.bucket} is in ${String(impossible[0]!.from)}, the config says ${String(impossible[0]!.to)}`,
      'a bucket cannot move: create a new bucket in that location and point export.bucket at it',
    );
  }
  const desired = desiredMetadata(rules);
  if (changes.some((c) => c.kind === 'create')) {
    await bucket.create(desired as CreateBucketRequest);
    return;
  }
  if (changes.length > 0) {
    const { location: _fixed, ...patch } = desired;
    await bucket.setMetadata(patch as SdkBucketMetadata);
  }
}
