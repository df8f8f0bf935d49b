import { createHmac, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import type { LoadedConfig } from '../config/load.js';
import type { CartlensConfig } from '../config/schema.js';
import { runStateKeys } from '../sources/source.js';
import { ConfigError } from '../util/errors.js';
import { openWarehouse } from '../warehouse/index.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { recordUserKeyFingerprintSql, userKeyFingerprintsSql } from '../warehouse/state-sql.js';
import { planRun } from './plan.js';
import { readDays, type DayState } from './run-state.js';

/**
 * The key behind `user_key` (HMAC-SHA256 of user_pseudo_id), and its fingerprint in the warehouse
 * (`user_key_fingerprint`), so that every published date keeps one keying: a run whose key is not
 * the recorded one is refused before it changes anything, and `cartlens rotate-user-key`
 * republishes every published date with a new key in one run (docs/operations.md).
 */

/**
 * The fingerprint is the HMAC of this label under the key (docs/decisions.md): it tells two keys
 * apart and reveals no more of the key than a published user_key does.
 */
const FINGERPRINT_LABEL = 'cartlens user_key_secret fingerprint v1';

export function userKeyFingerprint(secret: Buffer): string {
  return createHmac('sha256', secret).update(FINGERPRINT_LABEL, 'utf8').digest('hex');
}

/** A run refused for its `user_key` key before it changed anything: its dates keep their state. */
export class UserKeyRefusedError extends ConfigError {}

/**
 * The HMAC key for `user_key` where a run reads it: the configured secret, else a random key made
 * once by the first run and kept beside the warehouse (mode 0600), so that a user's key is the
 * same every day (`secret` undefined: the key file is not made yet).
 */
interface UserKey {
  secret: Buffer | undefined;
  /** The key file beside the DuckDB warehouse, when no secret is configured. */
  file: string | undefined;
  name: string;
}

async function readUserKey(config: CartlensConfig): Promise<UserKey> {
  const configured = config.privacy.user_key_secret;
  if (configured !== undefined) return { secret: Buffer.from(configured, 'utf8'), file: undefined, name: 'privacy.user_key_secret' };
  if (config.warehouse.type !== 'duckdb') {
    throw new ConfigError('privacy.user_key_secret is not set', 'set it, e.g. "${CARTLENS_USER_KEY_SECRET}" injected from Secret Manager (docs/google-cloud.md)');
  }
  const file = `${config.warehouse.path}.user-key`;
  const existing = await readFile(file, 'utf8').catch(() => undefined);
  return { secret: existing === undefined ? undefined : Buffer.from(existing.trim(), 'utf8'), file, name: `the key file ${file} (privacy.user_key_secret is not set)` };
}

async function makeKeyFile(file: string): Promise<Buffer> {
  const made = randomBytes(32).toString('hex');
  await writeFile(file, `${made}\n`, { mode: 0o600, flag: 'wx' }).catch(async (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  return Buffer.from((await readFile(file, 'utf8')).trim(), 'utf8');
}

/** The dates whose files were published whole (complete or provisional): keyed with the recorded key. */
function publishedDates(days: readonly DayState[]): string[] {
  return days.filter((d) => d.status === 'complete' || d.status === 'provisional').map((d) => d.date);
}

/** `3 published date(s) (2026-11-01, 2026-11-02, 2026-11-05)`, or first … last past 5 dates. */
function datesText(dates: readonly string[]): string {
  const sorted = [...dates].sort();
  const list = sorted.length <= 5 ? sorted.join(', ') : `${sorted[0]} … ${sorted.at(-1)}`;
  return `${sorted.length} published date(s) (${list})`;
}

/**
 * The fingerprints of the key the warehouse's tables were built with: none before the first run
 * records one; one row per run that recorded it, as runs made at once on a new warehouse
 * (BigQuery's parallel backfill) each may.
 */
async function recordedFingerprints(warehouse: Warehouse): Promise<Set<string>> {
  const rows = await warehouse.query(userKeyFingerprintsSql(warehouse.dialect));
  return new Set(rows.map((r) => String(r.fingerprint)));
}

/** Whether `fingerprint` is the one key recorded. */
const isRecordedKey = (recorded: ReadonlySet<string>, fingerprint: string) => recorded.size === 1 && recorded.has(fingerprint);

/** A key a run will record in its transaction (a first run, a rotation), per open warehouse. */
const pending = new WeakMap<Warehouse, { fingerprint: string; replaces: boolean }>();

export interface UserKeyContext {
  /** The source's recorded days (run_state): its published dates were keyed with the recorded key. */
  recorded: readonly DayState[];
  /** The dates the run replaces (with their input staged). */
  recomputed: readonly string[];
  /** `cartlens rotate-user-key`: the run's key replaces the recorded one. */
  rotate: boolean;
}

/**
 * Gives the warehouse the run's key, once checked against the recorded fingerprint. A different
 * key is refused while published dates hold the recorded one (they would be split between two
 * keyings), unless the run rotates the key and recomputes every one of them. The new fingerprint
 * is written by `recordUserKeyFingerprint`, inside the run's transaction: a run that does not
 * commit records nothing.
 */
export async function applyUserKey(warehouse: Warehouse, loaded: LoadedConfig, context: UserKeyContext): Promise<void> {
  const recorded = await recordedFingerprints(warehouse);
  const published = publishedDates(context.recorded);
  const key = await readUserKey(loaded.config);
  const rotation = `\`cartlens rotate-user-key --config ${loaded.file}\``;
  if (key.secret === undefined && recorded.size > 0 && published.length > 0 && !context.rotate) {
    throw new UserKeyRefusedError(
      `privacy.user_key_secret is not set and the key file ${key.file} that keyed user_key in ${datesText(published)} is missing`,
      `restore the file, or set privacy.user_key_secret and change to it with ${rotation}; nothing was changed`,
    );
  }
  const secret = key.secret ?? (await makeKeyFile(key.file!));
  const fingerprint = userKeyFingerprint(secret);
  if (!isRecordedKey(recorded, fingerprint)) {
    // A warehouse made before fingerprints were kept has none: its first run records its key.
    if (published.length > 0 && recorded.size > 0 && !context.rotate) {
      throw new UserKeyRefusedError(
        `${key.name} is not the key that keyed user_key in ${datesText(published)}: a run with it would split user_key across them`,
        `set the secret they were published with, or change it with ${rotation} (it republishes every published date with the new key); nothing was changed`,
      );
    }
    const recomputed = new Set(context.recomputed);
    const lost = context.rotate ? published.filter((d) => !recomputed.has(d)) : [];
    if (lost.length > 0) {
      throw new UserKeyRefusedError(
        `rotating ${key.name} republishes every published date, and the input of ${datesText(lost)} is gone: their files would keep the old user_key`,
        "restore those dates' input (export files, or GA4's daily export tables) and rotate again; nothing was changed",
      );
    }
    pending.set(warehouse, { fingerprint, replaces: recorded.size > 0 });
  }
  await warehouse.setUserKeySecret(secret);
}

/**
 * Inside the run's transaction: records the fingerprint of the key its tables were built with,
 * when it is new (a first run, a rotation), so that it commits with them or not at all.
 */
export async function recordUserKeyFingerprint(warehouse: Warehouse, runId: string): Promise<void> {
  const record = pending.get(warehouse);
  if (!record) return;
  // A first run only inserts: runs made at once (BigQuery's parallel backfill) never conflict on a delete.
  for (const sql of recordUserKeyFingerprintSql(warehouse.dialect, record.fingerprint, runId, record.replaces)) await warehouse.execute(sql);
}

/** What `cartlens rotate-user-key` has to do: nothing (the key is the recorded one), or republish these dates. */
export type RotationPlan = { kind: 'unchanged' } | { kind: 'republish'; dates: string[] };

/**
 * The dates a rotation republishes: every published date of the config's source, unless the
 * config's key is already the recorded one. Reads only; the rotation itself is a run.
 */
export async function planRotation(loaded: LoadedConfig): Promise<RotationPlan> {
  const plan = await planRun(loaded);
  if (!plan.usesUserKey) {
    throw new ConfigError(`source ${loaded.config.source.type} publishes no user_key`, 'nothing to rotate: privacy.user_key_secret is not used by its tables');
  }
  const key = await readUserKey(loaded.config);
  const warehouse = await openWarehouse(loaded.config.warehouse, plan.dialect);
  try {
    await warehouse.prepareSchema();
    if (key.secret !== undefined && isRecordedKey(await recordedFingerprints(warehouse), userKeyFingerprint(key.secret))) return { kind: 'unchanged' };
    return { kind: 'republish', dates: publishedDates(await readDays(warehouse, runStateKeys(plan.source))) };
  } finally {
    await warehouse.close();
  }
}
