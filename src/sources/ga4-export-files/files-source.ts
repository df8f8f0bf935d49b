import { readdir, stat as statCallback, type Dirent, type readdirSync as readdirSyncType } from 'node:fs';
import { lstat, readlink, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { glob, globSync, type GlobOptions } from 'tinyglobby';
import { InputError } from '../../util/errors.js';
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

/**
 * Glob options for the input. `dot: false`: hidden files and folders are never input (cartlens's
 * own `.cartlens` folder among them). `followSymbolicLinks: false` with the Crawl's view of the
 * folders: the crawler never enters a link.
 */
const GLOB_OPTIONS = { absolute: true, onlyFiles: true, dot: false, followSymbolicLinks: false } satisfies GlobOptions;

/**
 * How the glob's crawler sees the folders. It enters only real folders. Any other entry (a link,
 * a FIFO, a device) is shown to it as a file, so that one the pattern matches is listed and then
 * checked by name (and refused, never dropped unseen); a link to a folder is shown as a folder,
 * and the glob's wish to enter it is recorded instead of followed.
 */
class Crawl {
  /** Links to folders the glob would have entered. */
  readonly linkedFolders: string[] = [];
  private readonly links = new Set<string>();

  readonly fs = {
    readdir: ((path: string, _options: unknown, callback: (error: NodeJS.ErrnoException | null, entries: Dirent[]) => void) => {
      if (this.links.has(resolve(path))) {
        this.linkedFolders.push(resolve(path));
        return callback(null, []);
      }
      readdir(path, { withFileTypes: true }, (error, entries) => {
        if (error) return callback(error, []);
        let pending = entries.length;
        const shown: Dirent[] = new Array(entries.length);
        const show = (i: number, folder: boolean) => {
          shown[i] = entryAs(entries[i]!.name, folder);
          if (--pending === 0) callback(null, shown);
        };
        if (pending === 0) return callback(null, []);
        entries.forEach((entry, i) => {
          if (!entry.isSymbolicLink()) return show(i, entry.isDirectory());
          statCallback(join(path, entry.name), (statError, info) => {
            const folder = !statError && info.isDirectory();
            if (folder) this.links.add(resolve(path, entry.name));
            show(i, folder);
          });
        });
      });
    }) as unknown as typeof readdir,
  };
}

/** An entry as a folder or as a file, and never as a link (the crawler would follow or drop it). */
function entryAs(name: string, folder: boolean): Dirent {
  return { name, isDirectory: () => folder, isFile: () => !folder, isSymbolicLink: () => false } as unknown as Dirent;
}

/**
 * Whether the glob, reading its input, would enter `folder` (a folder inside the input folder,
 * spelt from `inputFolderOf`): asked of the glob itself, crawling a make-believe tree that holds
 * only the way down to `folder`, so that its own rules decide (`**`, braces, hidden folders).
 */
export function globEnters(pattern: string, baseDir: string, folder: string): boolean {
  const target = resolve(folder);
  let entered = false;
  const readdirSync = (path: string): Dirent[] => {
    const at = resolve(path);
    if (at === target) {
      entered = true;
      return [];
    }
    const rest = relative(at, target);
    if (rest === '' || rest === '..' || rest.startsWith(`..${sep}`) || isAbsolute(rest)) return [];
    return [entryAs(rest.split(sep)[0]!, true)];
  };
  globSync(pattern, { ...GLOB_OPTIONS, cwd: baseDir, fs: { readdirSync: readdirSync as unknown as typeof readdirSyncType } });
  return entered;
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

/**
 * The folder a glob's files are in: its leading segments without glob syntax, resolved against
 * `baseDir` (`input/events_*.json.gz` → `<baseDir>/input`). A backslash-escaped character counts
 * as plain.
 */
export function inputFolderOf(pattern: string, baseDir: string): string {
  const segments = pattern.split('/');
  const plain: string[] = [];
  for (const segment of segments.slice(0, -1)) {
    if (/(^|[^\\])[*?[\]{}()!+@]/.test(segment)) break;
    plain.push(segment.replace(/\\(.)/g, '$1'));
  }
  const folder = plain.join('/');
  return resolve(baseDir, pattern.startsWith('/') && folder === '' ? '/' : folder || '.');
}
