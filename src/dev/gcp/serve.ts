// `cartlens dev gcp`: loads the export files, serves the local Google Cloud until Ctrl-C, and says
// what it loaded, what it skipped and why, how large a run it takes, and where it listens.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { CartlensError } from '../../util/errors.js';
import { LARGEST_RUN_BYTES, LocalGcp } from './local-gcp.js';
import { NOT_EMULATED } from './local-bigquery.js';
import { skippedSummary } from './ndjson.js';
import { REQUEST_LIMIT_BYTES, zetasqlServerBinary } from './zetasql-engine.js';

export interface ServeOptions {
  data: string;
  project: string;
  dataset: string;
  storageDir: string;
  port: string;
  /** Also write each daily table's rows here, in the contract's input order for export tables. */
  orderedOut?: string;
}

export async function serveLocalGcp(options: ServeOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const binary = zetasqlServerBinary();
  if ('unavailable' in binary) throw new CartlensError(`cartlens dev gcp cannot run here: ${binary.unavailable}`, 'run it on Linux or macOS (x64 or arm64), for example in the Docker image');
  const port = Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CartlensError(`--port ${options.port} is not a port`, 'give a number from 0 (any free port) to 65535');
  const gcp = await LocalGcp.create({ project: options.project, dataset: options.dataset, storageDir: options.storageDir });
  try {
    const loaded = await gcp.loadExportFiles(options.data);
    const endpoint = await gcp.listen(port).catch((error: NodeJS.ErrnoException) => {
      throw new CartlensError(`cannot listen on 127.0.0.1:${port}: ${error.message}`, error.code === 'EADDRINUSE' ? 'give another --port (0: any free one)' : '');
    });
    const say = (line = '') => out.write(`${line}\n`);
    const count = (n: number) => n.toLocaleString('en-US');
    say(`Loaded GA4 export files into ${options.project}.${options.dataset}:`);
    for (const file of loaded) {
      const skipped = file.skipped.length > 0 ? `; ${count(file.skipped.length)} line${file.skipped.length > 1 ? 's' : ''} skipped, no BigQuery table can hold ${file.skipped.length > 1 ? 'them' : 'it'}: ${skippedSummary(file.skipped)}` : '';
      const blank = file.blankLines > 0 ? `; ${count(file.blankLines)} blank line${file.blankLines > 1 ? 's' : ''}` : '';
      say(`  ${file.table.split('.').pop()} ← ${relative(process.cwd(), file.file)}: ${count(file.rows)} rows${skipped}${blank}`);
      if (file.unknownFields.length > 0) say(`    fields GA4's export schema has not, left out: ${file.unknownFields.join(', ')}`);
    }
    if (options.orderedOut !== undefined) {
      // The same events as files, in Cleaning 5's order: a DuckDB run on them publishes the same bytes.
      await mkdir(options.orderedOut, { recursive: true });
      const daily = loaded.map((f) => f.table.split('.').pop()!).filter((table) => /^events_\d{8}$/.test(table));
      for (const table of daily) await writeFile(join(options.orderedOut, `${table}.json`), await gcp.exportTableLines(table));
      say(`The daily tables' rows in the contract's input order for export tables (for a run on files): ${relative(process.cwd(), options.orderedOut) || '.'}/events_YYYYMMDD.json`);
    }
    const rows = loaded.reduce((sum, f) => sum + f.rows, 0);
    const perRow = loaded.reduce((sum, f) => sum + f.stagedBytes, 0) / Math.max(1, rows);
    say(
      `A run stages all its days in one statement of at most ${REQUEST_LIMIT_BYTES / 2 ** 20} MiB (ZetaSQL's request limit): about ${count(Math.floor(LARGEST_RUN_BYTES / perRow / 100) * 100)} rows like these. ` +
        `${rows * perRow > LARGEST_RUN_BYTES ? 'These tables hold more: run a few dates at a time (cartlens run --date).' : 'These tables fit in one run.'}`,
    );
    say(`Cloud Storage objects are kept as files: ${relative(process.cwd(), options.storageDir) || '.'}/<bucket>/<object name>`);
    say(`Not emulated: ${NOT_EMULATED.join('; ')}.`);
    say();
    say(`Local Google Cloud on ${endpoint} (BigQuery /bigquery/v2, Cloud Storage /storage/v1); Ctrl-C stops it.`);
    say(`Point deploy/cartlens.gcp.yaml at it: warehouse.api_endpoint and export.api_endpoint: "${endpoint}"`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
  } finally {
    await gcp.stop();
  }
}
