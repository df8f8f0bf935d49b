import type { Command } from 'commander';
import { Ga4ApiEmulator } from '../../sources/ga4-data-api/emulator/ga4-api-emulator.js';

export function devCommand(program: Command): void {
  const dev = program.command('dev').description('local stand-ins for Google services, for development and demos');
  dev
    .command('ga4-api')
    .description("serve the GA4 Data API's runReport on 127.0.0.1, computed from GA4 export files")
    .option('--port <port>', 'the port (0: any free one)', '8085')
    .option('--data <glob>', 'GA4 export files to answer from (see `cartlens demo`)', '.cartlens/demo-input/events_*.json.gz')
    .option('--tokens-per-day <n>', 'the emulated daily quota', '200000')
    .action(async (options: { port: string; data: string; tokensPerDay: string }) => {
      const emulator = await Ga4ApiEmulator.fromExportFiles(options.data, { tokensPerDay: Number(options.tokensPerDay) });
      const url = await emulator.start(Number(options.port));
      process.stdout.write(`GA4 Data API emulator on ${url} (POST /v1beta/properties/{id}:runReport); Ctrl-C stops it\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await emulator.stop();
    });
  dev
    .command('gcp')
    .description("serve a local BigQuery (ZetaSQL's reference engine) and Cloud Storage on 127.0.0.1, with GA4 export files as the export's tables")
    .option('--data <glob>', 'GA4 export files, one table each (events_YYYYMMDD.json[.gz])', '.cartlens/demo-input/events_*.json.gz')
    .option('--project <project>', "the export's project (source.project)", 'my-store-analytics')
    .option('--dataset <dataset>', "the export's dataset (source.dataset)", 'analytics_123456789')
    .option('--storage-dir <dir>', 'where Cloud Storage objects are kept, as <dir>/<bucket>/<object name>', '.cartlens/gcs')
    .option('--port <port>', 'the port (0: any free one)', '9050')
    .option('--ordered-out <dir>', "also write each daily table's rows to <dir>/events_YYYYMMDD.json in the contract's input order for export tables, for a DuckDB run to compare with")
    .action(async (options: { data: string; project: string; dataset: string; storageDir: string; port: string; orderedOut?: string }) => {
      // ZetaSQL's engine and its client load only here.
      const { serveLocalGcp } = await import('../../dev/gcp/serve.js');
      await serveLocalGcp(options);
    });
}
