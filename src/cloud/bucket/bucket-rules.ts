/** The bucket as cartlens wants it: declared in config (export.bucket_rules), applied by `cartlens gcp apply`. */
export interface BucketRules {
  bucket: string;
  location: string;
  /** Objects under the export prefix are deleted this many days after creation. */
  deleteAfterDays: number;
  /** Optional cheaper storage classes on the way, e.g. NEARLINE after 30 days. */
  storageClassSteps: { afterDays: number; storageClass: string }[];
  /** Deleted objects stay recoverable (and billed) this long; 0 turns soft delete off. */
  softDeleteDays: number;
  /** Where uploads in flight live: swept after a day when a run died before cleaning them up. */
  incomingPrefix: string;
  exportPrefix: string;
  /** Where raw input lands (the GA4 Data API's pages), outside the export prefix BI readers see. */
  rawPrefix: string;
  /** Raw input is deleted this many days after it landed (retention.landed_days). */
  rawDeleteAfterDays: number;
}

/** The fields of the JSON API's bucket resource that the rules govern. */
export interface BucketMetadata {
  location?: string;
  iamConfiguration?: { uniformBucketLevelAccess?: { enabled?: boolean }; publicAccessPrevention?: string };
  lifecycle?: { rule?: LifecycleRule[] };
  softDeletePolicy?: { retentionDurationSeconds?: string | number };
}

export interface LifecycleRule {
  action: { type: string; storageClass?: string };
  condition: { age?: number; matchesPrefix?: string[] };
}

export interface BucketChange {
  field: string;
  from: unknown;
  to: unknown;
  /** `impossible`: the bucket must be recreated (location cannot change). */
  kind: 'create' | 'update' | 'impossible';
}

/** The metadata the rules call for. Uniform access and public access prevention are always on. */
export function desiredMetadata(rules: BucketRules): Required<Pick<BucketMetadata, 'location' | 'iamConfiguration' | 'lifecycle' | 'softDeletePolicy'>> {
  const prefix = rules.exportPrefix === '' ? undefined : [rules.exportPrefix];
  const rule: LifecycleRule[] = [
    ...rules.storageClassSteps.map((step) => ({
      action: { type: 'SetStorageClass', storageClass: step.storageClass },
      condition: { age: step.afterDays, ...(prefix ? { matchesPrefix: prefix } : {}) },
    })),
    { action: { type: 'Delete' }, condition: { age: rules.deleteAfterDays, ...(prefix ? { matchesPrefix: prefix } : {}) } },
    { action: { type: 'Delete' }, condition: { age: 1, matchesPrefix: [rules.incomingPrefix] } },
    { action: { type: 'Delete' }, condition: { age: rules.rawDeleteAfterDays, matchesPrefix: [rules.rawPrefix] } },
  ];
  return {
    location: rules.location.toUpperCase(),
    iamConfiguration: { uniformBucketLevelAccess: { enabled: true }, publicAccessPrevention: 'enforced' },
    lifecycle: { rule },
    softDeletePolicy: { retentionDurationSeconds: String(rules.softDeleteDays * 86_400) },
  };
}

/** What `apply` would change on the live bucket (undefined: it does not exist). */
export function planBucket(rules: BucketRules, live: BucketMetadata | undefined): BucketChange[] {
  const desired = desiredMetadata(rules);
  if (!live) return [{ field: 'bucket', from: undefined, to: `gs://${rules.bucket} in ${desired.location}`, kind: 'create' }];
  const changes: BucketChange[] = [];
  if ((live.location ?? '').toUpperCase() !== desired.location) {
    changes.push({ field: 'location', from: live.location, to: desired.location, kind: 'impossible' });
  }
  const compare = (field: string, from: unknown, to: unknown) => {
    if (JSON.stringify(normalize(from)) !== JSON.stringify(normalize(to))) changes.push({ field, from, to, kind: 'update' });
  };
  compare('iamConfiguration.uniformBucketLevelAccess.enabled', live.iamConfiguration?.uniformBucketLevelAccess?.enabled ?? false, true);
  compare('iamConfiguration.publicAccessPrevention', live.iamConfiguration?.publicAccessPrevention ?? 'inherited', 'enforced');
  compare('lifecycle.rule', live.lifecycle?.rule ?? [], desired.lifecycle.rule);
  compare('softDeletePolicy.retentionDurationSeconds', String(live.softDeletePolicy?.retentionDurationSeconds ?? 604_800), desired.softDeletePolicy.retentionDurationSeconds);
  return changes;
}

/** The longest a published file can exist, in days: lifecycle age + up to a day + soft delete. */
export function maximumLifetimeDays(rules: BucketRules): number {
  return rules.deleteAfterDays + 1 + rules.softDeleteDays;
}

/** Key order and number/string forms do not count as differences. */
function normalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, normalize(v)]));
  }
  return typeof value === 'number' ? String(value) : value;
}
