import { mkdir, readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CartlensError } from '../util/errors.js';
import type { DataformRepository } from './repository.js';

// Writing (`--out`) and checking (`--check`) share one comparison: writing applies the drift that
// checking reports, so a folder `--check` passes is exactly one `--out` would leave unchanged.

/** Top-level entries of a Dataform repository the generator keeps as they are. */
const KEPT = ['.git', 'node_modules', 'package.json', 'package-lock.json'];

/** How a folder differs from a generated repository; paths are relative, with `/`. */
export interface RepositoryDrift {
  /** Generated files whose content in the folder is not what is generated now. */
  differing: string[];
  /** Generated files the folder lacks. */
  missing: string[];
  /**
   * Files the generator does not write: inside its folders (definitions/, includes/), which it owns
   * whole, or at the top level (a folder's entry ends with `/`), which it refuses to write over.
   */
  extra: string[];
}

export const inSync = (drift: RepositoryDrift) => drift.differing.length + drift.missing.length + drift.extra.length === 0;

/** Compares `dir` with the repository: what `writeRepository` would change there. */
export async function repositoryDrift(repository: DataformRepository, dir: string): Promise<RepositoryDrift> {
  const owned = ownedFolders(repository);
  const kept = new Set([...KEPT, ...owned, ...[...repository.files.keys()].filter((path) => !path.includes('/'))]);
  const drift: RepositoryDrift = { differing: [], missing: [], extra: [] };
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (!kept.has(entry.name)) drift.extra.push(entry.isDirectory() ? `${entry.name}/` : entry.name);
  }
  for (const folder of owned) {
    for (const path of await filesUnder(dir, folder)) if (!repository.files.has(path)) drift.extra.push(path);
  }
  for (const [path, content] of repository.files) {
    const present = await readFile(join(dir, path)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
      throw error;
    });
    if (present === undefined) drift.missing.push(path);
    else if (!present.equals(Buffer.from(content))) drift.differing.push(path);
  }
  for (const list of Object.values(drift)) list.sort();
  return drift;
}

/**
 * Writes the repository into `dir`: its generated folders (definitions/, includes/) end up holding
 * only generated files, so a model that no longer exists leaves no action behind; files already
 * right are not touched. Refuses a folder that holds something else than a generated repository
 * (or its git metadata and npm files).
 */
export async function writeRepository(repository: DataformRepository, dir: string): Promise<void> {
  const drift = await repositoryDrift(repository, dir);
  const owned = ownedFolders(repository);
  const foreign = drift.extra.filter((path) => !owned.some((folder) => path.startsWith(`${folder}/`)));
  if (foreign.length > 0) throw new CartlensError(`${dir} holds files the generator did not write (${foreign.slice(0, 3).join(', ')})`, 'give --out an empty folder, or the folder of an earlier `cartlens dataform`');
  for (const path of drift.extra) await rm(join(dir, path), { force: true });
  for (const folder of owned) await removeEmptyFolders(join(dir, folder));
  for (const path of [...drift.missing, ...drift.differing]) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), repository.files.get(path)!);
  }
}

/** The top-level folders the generator writes into, which it owns whole. */
function ownedFolders(repository: DataformRepository): string[] {
  return [...new Set([...repository.files.keys()].filter((path) => path.includes('/')).map((path) => path.split('/')[0]!))].sort();
}

/** Every file under `folder` of `dir`, as paths relative to `dir` (none when it does not exist). */
async function filesUnder(dir: string, folder: string): Promise<string[]> {
  const entries = await readdir(join(dir, folder), { withFileTypes: true }).catch(() => []);
  const files: string[] = [];
  for (const entry of entries) {
    const path = `${folder}/${entry.name}`;
    if (entry.isDirectory()) files.push(...(await filesUnder(dir, path)));
    else files.push(path);
  }
  return files;
}

/** Removes the folders left empty under `folder` (and it, if empty): git keeps no empty folder either. */
async function removeEmptyFolders(folder: string): Promise<void> {
  const entries = await readdir(folder, { withFileTypes: true }).catch(() => undefined);
  if (entries === undefined) return;
  for (const entry of entries) if (entry.isDirectory()) await removeEmptyFolders(join(folder, entry.name));
  if ((await readdir(folder)).length === 0) await rmdir(folder);
}
