import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { startDashboard } from '../../dashboard/server.js';
import { dashboardOptions } from '../../dashboard/options.js';

export function serveCommand(program: Command): void {
  program
    .command('serve')
    .description('serve the dashboard over the published tables (read only; runs beside a running pipeline)')
    .requiredOption('-c, --config <file>', 'the config file (YAML)')
    .option('--port <port>', 'the port (0: any free one); default serve.port', parsePort)
    .option('--host <address>', 'the address to bind; default serve.host (127.0.0.1). Any other needs a token')
    .action(async (options: { config: string; port?: number; host?: string }) => {
      const loaded = await loadConfig(options.config);
      const settings = dashboardOptions(loaded, { host: options.host, port: options.port });
      const dashboard = await startDashboard(settings);
      process.stdout.write(`dashboard on ${dashboard.url} (reads ${settings.warehouse.description}, read only); Ctrl-C stops it\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await dashboard.close();
    });
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('a port number, 0 to 65535');
  return port;
}
