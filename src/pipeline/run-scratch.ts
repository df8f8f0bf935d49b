// The run's scratch folder under landing.scratch_dir, and what killed runs left there and in the landing folder.
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A run id as run.ts makes it (`20261111T090000Z-a1b2c3`): what cleanup may recognise as its own. */
const RUN_ID = /^\d{8}T\d{6}Z-[0-9a-f]{6}$/;
/** cartlens's own folder inside `landing.scratch_dir`, and the file that marks it as cartlens's. */
export const SCRATCH_FOLDER = 'cartlens-scratch';
const SCRATCH_MARKER = '.cartlens-scratch';

/**
 * Makes the run's scratch folder, `<scratch_dir>/cartlens-scratch/<run id>/`, marking
 * `cartlens-scratch` as cartlens's. scratch_dir itself is the user's: nothing else in it is
 * touched.
 */
export async function openRunScratch(scratchRoot: string, runId: string): Promise<string> {
  const own = join(scratchRoot, SCRATCH_FOLDER);
  await mkdir(own, { recursive: true });
  await writeFile(join(own, SCRATCH_MARKER), 'Scratch folders of cartlens runs: deleted when the run ends, or by the next run.\n', { flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  const dir = join(own, runId);
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Deletes a run's scratch folder (the run ends). */
export async function removeRunScratch(scratchRoot: string, runId: string): Promise<void> {
  await rm(join(scratchRoot, SCRATCH_FOLDER, runId), { recursive: true, force: true });
}

/**
 * Deletes what killed runs left behind, and only that: run folders inside the marked
 * `cartlens-scratch` (and, from releases before it, run folders directly in the default scratch
 * folder), and partial landed files named after a run. Call only while holding the warehouse, so
 * that no other run is active.
 */
export async function removeLeftovers(landingDir: string, scratchRoot: string): Promise<void> {
  const own = join(scratchRoot, SCRATCH_FOLDER);
  const marked = await stat(join(own, SCRATCH_MARKER)).then(() => true, () => false);
  const folders = [...(marked ? [own] : []), ...(scratchRoot === join(landingDir, 'scratch') ? [scratchRoot] : [])];
  for (const folder of folders) {
    for (const entry of await readdir(folder, { withFileTypes: true }).catch(() => [])) {
      if (entry.isDirectory() && RUN_ID.test(entry.name)) await rm(join(folder, entry.name), { recursive: true, force: true });
    }
  }
  const objects = join(landingDir, 'objects');
  const partial = (await readdir(objects).catch(() => [] as string[])).filter((name) => /^\.(.+)-\d+\.tmp$/.exec(name)?.[1]?.match(RUN_ID));
  await Promise.all(partial.map((name) => rm(join(objects, name), { force: true })));
}
