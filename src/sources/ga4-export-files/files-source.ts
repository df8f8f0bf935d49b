import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { glob } from 'tinyglobby';
import { InputError } from '../../util/errors.js';
import type { FileEventSource, InputFile } from '../source.js';

const SUPPORTED = /\.(json|ndjson|jsonl)(\.gz)?$/i;

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
    const paths = await glob(this.pattern, { cwd: this.baseDir, absolute: true, onlyFiles: true, dot: false });
    const matched = paths.filter((p) => SUPPORTED.test(p));
    if (matched.length === 0) {
      const ignored = paths.length > 0 ? ` (${paths.length} matched file(s) are not .json/.ndjson[.gz])` : '';
      // `[ ] ( )` are glob syntax: a folder named `data (2026)` matches nothing as written.
      const special = /[[\]()]/.test(this.pattern) ? "; `[ ] ( )` in source.path are glob syntax: escape each with a backslash, in single quotes in YAML (e.g. 'data \\(2026\\)/*.json.gz'), or rename the folder" : '';
      throw new InputError(`no input files match ${this.pattern} under ${this.baseDir}${ignored}`, `check source.path in the config, or run \`cartlens demo\` to make sample data${special}`);
    }
    // Input order is by path in UTF-8 byte order, so that it depends on no locale.
    matched.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    return Promise.all(matched.map(async (path) => ({ path, bytes: (await stat(path)).size })));
  }
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
