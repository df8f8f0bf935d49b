// No credential is ever committed: a service-account key file (JSON with "private_key") or a PEM
// private key anywhere in the files git tracks, or would add (untracked, not ignored), fails here.
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from './support/pipeline.js';

const run = promisify(execFile);
// Split so that this file does not match itself.
const PEM_PRIVATE_KEY = new RegExp(['-----BEGIN ', '(?:RSA |EC |ENCRYPTED |OPENSSH )?', 'PRIVATE KEY-----'].join(''));

/** Whether a JSON value holds a `private_key` member at any depth. */
function holdsPrivateKey(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(holdsPrivateKey);
  if (value === null || typeof value !== 'object') return false;
  return Object.entries(value).some(([key, inner]) => key === 'private_key' || holdsPrivateKey(inner));
}

/** The files of the repository at `root` (tracked, or untracked and not ignored) that hold a private key. */
async function filesWithKeys(root: string): Promise<string[]> {
  const { stdout } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, maxBuffer: 64 * 2 ** 20 });
  const found: string[] = [];
  for (const file of stdout.split('\0').filter(Boolean)) {
    const text = await readFile(join(root, file), 'utf8').catch(() => ''); // deleted in the tree, or a folder
    if (PEM_PRIVATE_KEY.test(text)) {
      found.push(file);
      continue;
    }
    if (!text.includes('private_key')) continue;
    try {
      if (holdsPrivateKey(JSON.parse(text))) found.push(file);
    } catch {
      // Not JSON: source that merely names the field.
    }
  }
  return found;
}

describe('the repository', () => {
  it('holds no key file', async () => {
    expect(await filesWithKeys(process.cwd())).toEqual([]);
  });

  it('the scan finds a service-account key file, tracked or not yet added, and a PEM key', async () => {
    const dir = await tempDir();
    await run('git', ['init', '-q'], { cwd: dir });
    await mkdir(join(dir, 'deploy'));
    const key = { type: 'service_account', project_id: 'p', private_key_id: 'k1', client_email: 'x@p.iam.gserviceaccount.com', private_key: 'not a real key' };
    await writeFile(join(dir, 'deploy', 'sa.json'), JSON.stringify(key, null, 2));
    await writeFile(join(dir, 'nested.config'), JSON.stringify({ credentials: [key] }));
    await writeFile(join(dir, 'id.pem'), `${['-----BEGIN ', 'PRIVATE KEY-----'].join('')}\nAAAA\n`);
    await writeFile(join(dir, 'reader.ts'), 'const k = creds.private_key; // "private_key" named in code is fine\n');
    await writeFile(join(dir, 'ignored.json'), JSON.stringify(key));
    await writeFile(join(dir, '.gitignore'), 'ignored.json\n');
    await run('git', ['add', 'deploy/sa.json'], { cwd: dir });
    expect((await filesWithKeys(dir)).sort()).toEqual(['deploy/sa.json', 'id.pem', 'nested.config']);
  });
});
