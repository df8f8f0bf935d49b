import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CartlensError } from '../util/errors.js';
import type { DataformRepository } from './repository.js';

/**
 * Writes the repository into `dir`: its generated folders (definitions/, includes/) are replaced
 * whole, so a model that no longer exists leaves no action behind. Refuses a folder that holds
 * something else than a generated repository (or its git metadata).
 */
export async function writeRepository(repository: DataformRepository, dir: string): Promise<void> {
  const existing = await readdir(dir).catch(() => [] as string[]);
  const ours = new Set(['.git', 'node_modules', 'package.json', 'package-lock.json', ...[...repository.files.keys()].map((path) => path.split('/')[0]!)]);
  const foreign = existing.filter((entry) => !ours.has(entry));
  if (foreign.length > 0) throw new CartlensError(`${dir} holds files the generator did not write (${foreign.slice(0, 3).join(', ')})`, 'give --out an empty folder, or the folder of an earlier `cartlens dataform`');
  await rm(join(dir, 'definitions'), { recursive: true, force: true });
  await rm(join(dir, 'includes'), { recursive: true, force: true });
  for (const [path, content] of repository.files) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
}
