import { lstat, readlink, realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, sep } from 'node:path';
import { glob } from 'tinyglobby';
import { InputError } from '../../util/errors.js';
import { Crawl, GLOB_OPTIONS, inputFolderOf } from '../../util/input-glob.js';
import type { FileEventSource, InputFile } from '../source.js';

const SUPPORTED = /\.(json|ndjson|jsonl)(\.gz)?$/i;
/** Refused files named in the error; the rest are counted. */
const SHOWN = 5;

/** GA4 BigQuery-export files matched by a glob (`.json`, `.ndjson`, optionally gzip-compressed). */
export class Ga4ExportFilesSource implements FileEventSource {
  readonly kind = 'files';
  constructor(
    private readonly pattern: string,
    private readonly baseDir: string,
    /** Run history's key for this source (sources/index.ts): the input folder, not the glob text. */
    readonly identity = `ga4-export-files:${inputFolderOf(pattern, baseDir)}`,
    readonly intraday = false,
  ) {}

  get description(): string {
    return `GA4 export files ${this.pattern}`;
  }

  async prepare(): Promise<void> {}

  async listFiles(): Promise<InputFile[]> {
    const crawl = new Crawl();
    const paths = await glob(this.pattern, { ...GLOB_OPTIONS, cwd: this.baseDir, fs: crawl.fs });
    const matched = paths.filter((p) => SUPPORTED.test(p));
    // Input order is by path in UTF-8 byte order, so that it depends on no locale.
    matched.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const folder = inputFolderOf(this.pattern, this.baseDir);
    const realFolder = await realpath(folder).catch(() => folder);
    const checked = await Promise.all(matched.map((path) => regularFileIn(path, realFolder)));
    const refused = [
      ...(await Promise.all(crawl.linkedFolders.sort().map(async (path) => ((await outside(path, realFolder)) ? `${path} (a symbolic link to the folder ${await realpath(path)}, outside it)` : undefined)))),
      ...checked.map((c) => c.refused),
    ].filter((r): r is string => r !== undefined);
    if (refused.length > 0) {
      const shown = refused.slice(0, SHOWN).join('; ') + (refused.length > SHOWN ? `; and ${refused.length - SHOWN} more` : '');
      throw new InputError(
        `${refused.length} input file(s) refused: cartlens reads only regular files inside the input folder ${folder}: ${shown}`,
        'copy the files into the input folder (or point source.path at where they are), and take away links and special files; nothing was read',
      );
    }
    if (matched.length === 0) {
      const ignored = paths.length > 0 ? ` (${paths.length} matched file(s) are not .json/.ndjson[.gz])` : '';
      // `[ ] ( )` are glob syntax: a folder named `data (2026)` matches nothing as written.
      const special = /[[\]()]/.test(this.pattern) ? "; `[ ] ( )` in source.path are glob syntax: escape each with a backslash, in single quotes in YAML (e.g. 'data \\(2026\\)/*.json.gz'), or rename the folder" : '';
      throw new InputError(`no input files match ${this.pattern} under ${this.baseDir}${ignored}`, `check source.path in the config, or run \`cartlens demo\` to make sample data${special}`);
    }
    return checked.map((c) => c.file!);
  }
}

/** The file with its size when it is a regular file inside `realFolder` (a link to one counts), else why it is refused. */
async function regularFileIn(path: string, realFolder: string): Promise<{ file?: InputFile; refused?: string }> {
  // Gone since the listing: landing names it when it cannot read it.
  const info = await lstat(path).catch(() => undefined);
  if (!info) return { file: { path, bytes: 0 } };
  if (info.isFile()) return { file: { path, bytes: info.size } };
  if (!info.isSymbolicLink()) return { refused: `${path} (${kindOf(info)}, not a regular file)` };
  const target = await realpath(path).catch(() => undefined);
  if (target === undefined) return { refused: `${path} (a symbolic link to ${await readlink(path)}, which does not exist)` };
  if (await outside(path, realFolder)) return { refused: `${path} (a symbolic link to ${target}, outside it)` };
  const targetInfo = await stat(target);
  if (!targetInfo.isFile()) return { refused: `${path} (a symbolic link to ${kindOf(targetInfo)}, not a regular file)` };
  return { file: { path, bytes: targetInfo.size } };
}

/** Whether the link at `path` resolves outside `realFolder`. */
async function outside(path: string, realFolder: string): Promise<boolean> {
  const within = relative(realFolder, await realpath(path));
  return within === '..' || within.startsWith(`..${sep}`) || isAbsolute(within);
}

function kindOf(info: { isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string {
  if (info.isDirectory()) return 'a folder';
  if (info.isFIFO()) return 'a named pipe';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  return 'not a file';
}
