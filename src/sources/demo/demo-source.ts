import { readFile, writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Ga4ExportFilesSource } from '../ga4-export-files/files-source.js';
import type { FileEventSource, InputFile } from '../source.js';
import { DEMO_DEFAULTS } from '../../config/schema.js';
import { generateDemoExport, type DemoOptions } from './generator.js';

export type DemoSourceOptions = Omit<DemoOptions, 'onProgress' | 'utcOffsetHours' | 'catalogSize'>;

/**
 * The built-in generator as a source: writes a deterministic GA4 export into `outDir` (once per
 * set of options) and then reads it exactly like `ga4-export-files`.
 */
export class DemoSource implements FileEventSource {
  readonly kind = 'files';
  /** The generator writes daily files only. */
  readonly intraday = false;
  private readonly files: Ga4ExportFilesSource;

  constructor(
    private readonly options: DemoSourceOptions,
    /** Run history's key for this source (sources/index.ts): its folder, not its options. */
    readonly identity = `demo:${options.outDir}`,
  ) {
    this.files = new Ga4ExportFilesSource('events_*.json.gz', options.outDir);
  }

  get description(): string {
    return `demo data (${this.options.days} days × ${this.options.sessionsPerDay} sessions, seed ${this.options.seed}) in ${this.options.outDir}`;
  }

  async prepare(onProgress?: (message: string) => void): Promise<void> {
    const stamp = join(this.options.outDir, '.demo-options.json');
    const wanted = JSON.stringify({ ...this.options, generatorVersion: 2 });
    const existing = await readFile(stamp, 'utf8').catch(() => undefined);
    if (existing === wanted) return;
    await rm(this.options.outDir, { recursive: true, force: true });
    onProgress?.(`generating ${this.description}`);
    await generateDemoExport({ ...DEMO_DEFAULTS, ...this.options });
    await writeFile(stamp, wanted);
  }

  listFiles(): Promise<InputFile[]> {
    return this.files.listFiles();
  }
}
