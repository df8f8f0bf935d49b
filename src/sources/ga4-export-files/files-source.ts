import { stat } from 'node:fs/promises';
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
      throw new InputError(`no input files match ${this.pattern} under ${this.baseDir}${ignored}`, 'check source.path in the config, or run `cartlens demo` to make sample data');
    }
    // Input order is by path in UTF-8 byte order, so that it depends on no locale.
    matched.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    return Promise.all(matched.map(async (path) => ({ path, bytes: (await stat(path)).size })));
  }
}
