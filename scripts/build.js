// `npm run build`: src/ → dist/, same folder layout. Each .ts file is transpiled on its own by
// esbuild (ESM, Node 20, a linked source map naming the src file; no type checking: `npm test`
// runs tsc). Every other file under src/ (the .sql the code reads next to itself through
// import.meta.url) is copied as is. Only files whose bytes changed are written (each through a
// temporary file and a rename), and files no longer produced are removed, so a process loading
// dist/ meanwhile never reads half a file.
//
// dist/.build-stamp.json records the size and mtime of every input and output of the last build:
// when none has changed (nor this script, tsconfig.json or esbuild's version), the build stops
// there, without loading esbuild — `npm start` and the test setup pay a few milliseconds for a
// current dist/. `--force` rebuilds anyway; `--quiet` prints nothing unless something fails.
//
// Plain JavaScript so that it runs with no loader: `npm install` (prepare), the Cloud Run
// functions build (gcp-build) and the Dockerfile's build stage all call it.
import { mkdir, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const started = performance.now();
const root = fileURLToPath(new URL('..', import.meta.url));
const SRC = join(root, 'src');
const DIST = join(root, 'dist');
const STAMP = join(DIST, '.build-stamp.json');
const quiet = process.argv.includes('--quiet');
const force = process.argv.includes('--force');

/** Every file under dir, as absolute paths (none when dir does not exist). */
async function walk(dir) {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch((error) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath ?? e.path, e.name));
}

/** path (relative to the root) → "size:mtimeMs", or "missing". */
async function fingerprint(paths) {
  const stats = await Promise.all(paths.map((path) => stat(path).catch(() => undefined)));
  return Object.fromEntries(paths.map((path, i) => [relative(root, path), stats[i] ? `${stats[i].size}:${stats[i].mtimeMs}` : 'missing']));
}

const sameRecord = (a, b) => {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
};

const esbuildVersion = createRequire(import.meta.url)('esbuild/package.json').version;
// Editors' and tools' leftovers (dotfiles, *.tmp, backups~) are not part of the build.
const sources = (await walk(SRC)).filter((f) => !/(^|[\\/])\.[^\\/]*$|\.tmp$|~$/.test(f)).sort();
const modules = sources.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
const assets = sources.filter((f) => !f.endsWith('.ts'));
const inputs = { esbuild: esbuildVersion, ...(await fingerprint([fileURLToPath(import.meta.url), join(root, 'tsconfig.json'), ...sources])) };

const report = (text) => {
  if (!quiet) process.stderr.write(`dist/: ${modules.length} modules, ${assets.length} assets; ${text} (${Math.round(performance.now() - started)} ms)\n`);
};

const stamp = force ? undefined : await readFile(STAMP, 'utf8').then(JSON.parse, () => undefined);
if (stamp && sameRecord(stamp.inputs ?? {}, inputs) && sameRecord(stamp.outputs ?? {}, await fingerprint(Object.keys(stamp.outputs ?? {}).map((p) => join(root, p))))) {
  report('up to date');
} else {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: modules,
    outdir: DIST,
    outbase: SRC,
    bundle: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    sourcesContent: false,
    keepNames: true, // as tsx ran it: classes and functions keep their .name
    write: false,
    logLevel: 'warning',
  });

  /** dist path → bytes, for everything dist/ should hold. */
  const wanted = new Map(result.outputFiles.map((file) => [file.path, file.contents]));
  for (const asset of assets) wanted.set(join(DIST, relative(SRC, asset)), await readFile(asset));

  await rm(STAMP, { force: true }); // until this build is complete
  let written = 0;
  for (const [path, bytes] of wanted) {
    const current = await readFile(path).catch(() => undefined);
    if (current && Buffer.compare(current, bytes) === 0) continue;
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${process.pid}.tmp`;
    await writeFile(temporary, bytes);
    await rename(temporary, path);
    written++;
  }

  // What an earlier build produced from a file since deleted or renamed: removed, and then any
  // folder left empty (deepest first).
  let removed = 0;
  for (const path of await walk(DIST)) {
    if (wanted.has(path)) continue;
    await rm(path, { force: true });
    removed++;
  }
  const folders = (await readdir(DIST, { withFileTypes: true, recursive: true }))
    .filter((e) => e.isDirectory())
    .map((e) => join(e.parentPath ?? e.path, e.name))
    .sort((a, b) => b.split(sep).length - a.split(sep).length);
  for (const folder of folders) await rmdir(folder).catch(() => undefined);

  const temporary = `${STAMP}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify({ inputs, outputs: await fingerprint([...wanted.keys()]) }, null, 1)}\n`);
  await rename(temporary, STAMP);
  report(`${written} written, ${removed} removed`);
}
