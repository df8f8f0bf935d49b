import { readdir, stat as statCallback, type Dirent, type readdirSync as readdirSyncType } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { globSync, type GlobOptions } from 'tinyglobby';

/*
 * How an input glob (`source.input`) is read: by the files source when it lists its files, and by
 * the config's checks when they ask whether it would enter cartlens's own folders.
 */

/**
 * Glob options for the input. `dot: false`: hidden files and folders are never input (cartlens's
 * own `.cartlens` folder among them). `followSymbolicLinks: false` with the Crawl's view of the
 * folders: the crawler never enters a link.
 */
export const GLOB_OPTIONS = { absolute: true, onlyFiles: true, dot: false, followSymbolicLinks: false } satisfies GlobOptions;

/**
 * How the glob's crawler sees the folders. It enters only real folders. Any other entry (a link,
 * a FIFO, a device) is shown to it as a file, so that one the pattern matches is listed and then
 * checked by name (and refused, never dropped unseen); a link to a folder is shown as a folder,
 * and the glob's wish to enter it is recorded instead of followed.
 */
export class Crawl {
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
