// The key behind user_key (issue 19, item 4): the warehouse keeps its fingerprint, never the key;
// a run with another key is refused before it changes anything, naming privacy.user_key_secret and
// the published dates it would split; `cartlens rotate-user-key` republishes every published date
// with the new key in one run, and a rotation that does not commit records nothing.
import { createHash, createHmac } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { runPipeline } from '../src/pipeline/run.js';
import { userKeyFingerprint } from '../src/pipeline/user-key.js';
import { ConfigError } from '../src/util/errors.js';
import { cli } from './support/cli.js';
import { ev, item, listFiles, queryWarehouse, SECRET, tempDir, userKey, writeConfig, writeInput, type Line } from './support/pipeline.js';

const NEW_SECRET = 'the-new-secret-key-9876543210';
const DATES = ['2026-11-01', '2026-11-02', '2026-11-03', '2026-11-04', '2026-11-05', '2026-11-06', '2026-11-07'];

/** A day with two abandoned carts (users `<date>-a`, `<date>-b`) and one purchase. */
function day(date: string): Line[] {
  const compact = date.replaceAll('-', '');
  const cart = (user: string, session: number) => ev('add_to_cart', { user: `${date}-${user}`, session, date: compact, at: session * 60, items: [item('A')] });
  return [
    cart('a', 1),
    cart('b', 2),
    cart('c', 3),
    ev('purchase', { user: `${date}-c`, session: 3, date: compact, at: 200, items: [item('A')], ecommerce: { transaction_id: `t-${compact}`, purchase_revenue: 10 } }),
  ];
}

async function project(dates = DATES, privacy = true) {
  const dir = await tempDir();
  await writeInput(dir, Object.fromEntries(dates.map((d) => [`events_${d.replaceAll('-', '')}.json`, day(d)])));
  const config = await writeConfig(dir);
  if (!privacy) await writeFile(config, (await readFile(config, 'utf8')).replace(/^privacy:.*\n/m, ''));
  const warehouse = join(dir, 'state', 'warehouse.duckdb');
  return {
    dir,
    config,
    warehouse,
    loaded: async () => parseConfig(await readFile(config, 'utf8'), config),
    useSecret: async (secret: string) => writeFile(config, (await readFile(config, 'utf8')).replace(/user_key_secret: "[^"]*"/, `user_key_secret: "${secret}"`)),
    fingerprints: async () => (await queryWarehouse(warehouse, 'SELECT fingerprint FROM user_key_fingerprint')).map((r) => String(r.fingerprint)),
    /** What a refused run must leave as it was: the run state, every published file, the fingerprint. */
    snapshot: async () => ({
      state: await queryWarehouse(warehouse, 'SELECT source, date::VARCHAR AS date, status, run_id FROM run_state ORDER BY date'),
      files: await Promise.all((await listFiles(join(dir, 'exports'))).map(async (f) => [f, await readFile(join(dir, 'exports', f), 'utf8')])),
      fingerprints: (await queryWarehouse(warehouse, 'SELECT * FROM user_key_fingerprint')).map((r) => String(r.fingerprint)),
    }),
    /** The user_key of every abandoned cart of every published date, by date. */
    publishedKeys: async () =>
      Object.fromEntries(
        await Promise.all(
          dates.map(async (d) => {
            const csv = await readFile(join(dir, 'exports', 'abandoned_carts', `dt=${d}`, `abandoned_carts_${d.replaceAll('-', '')}.csv`), 'utf8');
            const header = csv.split('\n')[0]!.split(',');
            const column = header.indexOf('user_key');
            return [d, csv.trim().split('\n').slice(1).map((line) => line.split(',')[column]).sort()];
          }),
        ),
      ),
  };
}

const hmac = (secret: string, user: string) => createHmac('sha256', secret).update(user, 'utf8').digest('hex');
const keysWith = (key: (user: string) => string) => Object.fromEntries(DATES.map((d) => [d, [key(`${d}-a`), key(`${d}-b`)].sort()]));

describe('the user_key key is kept as a fingerprint', () => {
  it('the first run records the fingerprint, never the key; a run with another secret is refused, naming the key and the dates, and changes nothing', async () => {
    const p = await project();
    await runPipeline({ loaded: await p.loaded() });
    expect(await p.publishedKeys()).toEqual(keysWith(userKey));
    // An HMAC of a fixed label under the key: neither the key, nor its plain hash, nor a user_key.
    const rows = await queryWarehouse(p.warehouse, 'SELECT * FROM user_key_fingerprint');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.fingerprint).toBe(userKeyFingerprint(Buffer.from(SECRET)));
    expect(rows[0]!.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    const text = JSON.stringify(rows);
    for (const secretForm of [SECRET, Buffer.from(SECRET).toString('hex'), Buffer.from(SECRET).toString('base64'), createHash('sha256').update(SECRET).digest('hex')]) expect(text).not.toContain(secretForm);
    expect((await readFile(p.warehouse)).includes(SECRET)).toBe(false);

    const before = await p.snapshot();
    await p.useSecret(NEW_SECRET);
    const refused = (await runPipeline({ loaded: await p.loaded(), dates: ['2026-11-03'] }).catch((e: unknown) => e)) as ConfigError;
    expect(refused).toBeInstanceOf(ConfigError);
    expect(refused.message).toBe('privacy.user_key_secret is not the key that keyed user_key in 7 published date(s) (2026-11-01 … 2026-11-07): a run with it would split user_key across them');
    expect(refused.hint).toContain(`\`cartlens rotate-user-key --config ${p.config}\``);
    // Nothing changed: no date marked failed, no file rewritten, the same key recorded.
    expect(await p.snapshot()).toEqual(before);

    // The CLI says it in one line and exits 1; a few dates are listed one by one.
    const cliRefused = await cli(['run', '--config', p.config, '--date', '2026-11-03']);
    expect(cliRefused.code).toBe(1);
    expect(cliRefused.stderr.trim().split('\n').filter((l) => l.startsWith('error:'))).toHaveLength(1);
    expect(cliRefused.stderr).toMatch(/^error: privacy\.user_key_secret is not the key that keyed user_key in 7 published date\(s\) \(2026-11-01 … 2026-11-07\).* nothing was changed$/m);
    expect(await p.snapshot()).toEqual(before);
  });

  it('lists a few dates one by one', async () => {
    const p = await project(DATES.slice(0, 3));
    await runPipeline({ loaded: await p.loaded() });
    await p.useSecret(NEW_SECRET);
    await expect(runPipeline({ loaded: await p.loaded() })).rejects.toThrow('user_key in 3 published date(s) (2026-11-01, 2026-11-02, 2026-11-03)');
  });
});

describe('cartlens rotate-user-key', () => {
  it('republishes every published date with the new key in one run, then records it', async () => {
    const p = await project();
    await runPipeline({ loaded: await p.loaded() });
    await p.useSecret(NEW_SECRET);
    const rotated = await cli(['rotate-user-key', '--config', p.config, '--json']);
    expect(rotated.stderr).toContain('republishing 7 published date(s) with the new key');
    expect(rotated.code).toBe(0);
    const report = JSON.parse(rotated.stdout) as { run_id: string; dates: { date: string; status: string }[] };
    expect(report.dates.map((d) => [d.date, d.status])).toEqual(DATES.map((d) => [d, 'published']));
    // Every published abandoned cart carries the HMAC of its user with the new secret.
    expect(await p.publishedKeys()).toEqual(keysWith((user) => hmac(NEW_SECRET, user)));
    expect(await p.fingerprints()).toEqual([userKeyFingerprint(Buffer.from(NEW_SECRET))]);
    expect(await queryWarehouse(p.warehouse, 'SELECT run_id FROM user_key_fingerprint')).toEqual([{ run_id: report.run_id }]);

    // The new key runs; the old one is now the one refused; rotating again has nothing to do.
    await expect(runPipeline({ loaded: await p.loaded(), dates: ['2026-11-07'] })).resolves.toMatchObject({ dates: [{ date: '2026-11-07', status: 'published' }] });
    const again = await cli(['rotate-user-key', '--config', p.config]);
    expect([again.code, again.stderr]).toEqual([0, 'the key is already the one every published date is keyed with: nothing to republish\n']);
    await p.useSecret(SECRET);
    await expect(runPipeline({ loaded: await p.loaded(), dates: ['2026-11-07'] })).rejects.toThrow(/privacy\.user_key_secret is not the key that keyed user_key in 7 published date\(s\)/);
  });

  it('a rotation killed before its commit records nothing: the old key stays, and so do the files', async () => {
    const p = await project();
    await runPipeline({ loaded: await p.loaded() });
    await p.useSecret(NEW_SECRET);
    const before = await p.snapshot();
    const killed = await cli(['rotate-user-key', '--config', p.config], { env: { CARTLENS_CRASH_AT: 'before-commit' } });
    expect(killed.signal).toBe('SIGKILL');
    expect(await p.fingerprints()).toEqual([userKeyFingerprint(Buffer.from(SECRET))]);
    expect((await p.snapshot()).files).toEqual(before.files);
    await expect(runPipeline({ loaded: await p.loaded(), dates: ['2026-11-01'] })).rejects.toThrow(/is not the key that keyed user_key/);
    // Rotated again, it completes.
    expect((await cli(['rotate-user-key', '--config', p.config])).code).toBe(0);
    expect(await p.publishedKeys()).toEqual(keysWith((user) => hmac(NEW_SECRET, user)));
  });

  it('a first run killed before its commit records no fingerprint: another key is then taken', async () => {
    const p = await project(DATES.slice(0, 2));
    const killed = await cli(['run', '--config', p.config], { env: { CARTLENS_CRASH_AT: 'before-commit' } });
    expect(killed.signal).toBe('SIGKILL');
    expect(await p.fingerprints()).toEqual([]);
    await p.useSecret(NEW_SECRET);
    await runPipeline({ loaded: await p.loaded() });
    expect(await p.fingerprints()).toEqual([userKeyFingerprint(Buffer.from(NEW_SECRET))]);
  });

  it('is refused, changing nothing, when a published date cannot be recomputed (its input is gone)', async () => {
    const p = await project(DATES.slice(0, 3));
    await runPipeline({ loaded: await p.loaded() });
    await rm(join(p.dir, 'input', 'events_20261102.json'));
    await p.useSecret(NEW_SECRET);
    const before = await p.snapshot();
    const refused = await cli(['rotate-user-key', '--config', p.config]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: rotating privacy\.user_key_secret republishes every published date, and the input of 1 published date\(s\) \(2026-11-02\) is gone: their files would keep the old user_key — restore/m);
    expect(await p.snapshot()).toEqual(before);
  });
});

describe('the key kept beside the DuckDB warehouse (no privacy.user_key_secret)', () => {
  it('is protected the same way: another key file, or none, is refused', async () => {
    const p = await project(DATES.slice(0, 2), false);
    await runPipeline({ loaded: await p.loaded() });
    const keyFile = `${p.warehouse}.user-key`;
    const made = (await readFile(keyFile, 'utf8')).trim();
    expect(await p.fingerprints()).toEqual([userKeyFingerprint(Buffer.from(made))]);
    const before = await p.snapshot();

    await writeFile(keyFile, `${'0'.repeat(64)}\n`);
    const run = async () => runPipeline({ loaded: await p.loaded(), dates: DATES.slice(0, 2) });
    await expect(run()).rejects.toThrow(`the key file ${keyFile} (privacy.user_key_secret is not set) is not the key that keyed user_key in 2 published date(s)`);
    await rm(keyFile);
    await expect(run()).rejects.toThrow(`privacy.user_key_secret is not set and the key file ${keyFile} that keyed user_key in 2 published date(s) (2026-11-01, 2026-11-02) is missing`);
    // Refused without making a new key in its place.
    await expect(readFile(keyFile)).rejects.toThrow(/ENOENT/);
    expect(await p.snapshot()).toEqual(before);

    await writeFile(keyFile, `${made}\n`);
    await expect(run()).resolves.toMatchObject({ dates: [{ status: 'published' }, { status: 'published' }] });
  });
});
