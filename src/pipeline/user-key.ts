import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { ConfigError } from '../util/errors.js';

/**
 * The HMAC key for `user_key`: the configured secret, else a random key made once and kept
 * beside the warehouse (mode 0600), so that a user's key is the same every day.
 */
export async function resolveUserKeySecret(configured: string | undefined, warehousePath: string | undefined): Promise<Buffer> {
  if (configured !== undefined) return Buffer.from(configured, 'utf8');
  if (warehousePath === undefined) {
    throw new ConfigError('privacy.user_key_secret is not set', 'set it, e.g. "${CARTLENS_USER_KEY_SECRET}" injected from Secret Manager (docs/google-cloud.md)');
  }
  const keyFile = `${warehousePath}.user-key`;
  const existing = await readFile(keyFile, 'utf8').catch(() => undefined);
  if (existing !== undefined) return Buffer.from(existing.trim(), 'utf8');
  const made = randomBytes(32).toString('hex');
  await writeFile(keyFile, `${made}\n`, { mode: 0o600, flag: 'wx' }).catch(async (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  return Buffer.from((await readFile(keyFile, 'utf8')).trim(), 'utf8');
}
