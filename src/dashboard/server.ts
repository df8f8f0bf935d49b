import { createHash, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, resolve, sep } from 'node:path';
import type { ExportConfig } from '../config/schema.js';
import { csvFileName } from '../exports/exporter.js';
import { PUBLISHED_TABLE_NAMES } from '../exports/published-tables.js';
import { reportPath } from '../reports/daily-report.js';
import type { ReportFormatOptions } from '../reports/render.js';
import { CartlensError, ConfigError, InputError } from '../util/errors.js';
import { renderDashboard, type FileLink } from './page.js';
import { dashboardData, resolveRange } from './queries.js';
import { WarehouseSnapshot } from './snapshot.js';

export interface DashboardOptions {
  host: string;
  /** 0: any free port. */
  port: number;
  /** Required on every request when set; required to be set when `host` is not loopback. */
  token?: string | undefined;
  /** The DuckDB warehouse file, read only. */
  warehousePath: string;
  /** The configured source's description: whose run states the status table shows. */
  source: string;
  format: ReportFormatOptions;
  /** Where the day's files are, for the links of the status table. */
  exportConfig: ExportConfig;
}

export interface RunningDashboard {
  url: string;
  close(): Promise<void>;
}

/** The addresses that only this machine reaches; any other needs a token. */
export const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);
const TOKEN_COOKIE = 'cartlens_token';
const FILE_TYPES: Record<string, string> = { '.csv': 'text/csv; charset=utf-8', '.html': 'text/html; charset=utf-8', '.json': 'application/json' };

/**
 * `cartlens serve`: the dashboard over a read-only copy of the published tables (snapshot.ts).
 * Pages are rendered on the server with no script, so the first paint is the first response.
 */
export async function startDashboard(options: DashboardOptions): Promise<RunningDashboard> {
  if (!LOOPBACK_HOSTS.has(options.host) && !options.token) {
    throw new ConfigError(
      `serve.host ${options.host} reaches beyond this machine, and no access token is set`,
      'set serve.token (e.g. "${CARTLENS_SERVE_TOKEN}") or the CARTLENS_SERVE_TOKEN environment variable, or bind to 127.0.0.1',
    );
  }
  const snapshot = await WarehouseSnapshot.create(options.warehousePath, options.source);
  const links = fileLinks(options.exportConfig);
  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => fail(response, error));
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://dashboard');
    if (options.token && !authorized(request, url, options.token)) {
      response.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer realm="cartlens"', ...SECURITY_HEADERS });
      response.end('401: an access token is required (Authorization: Bearer <token>, or ?token=<token> once)\n');
      return;
    }
    if (options.token && url.searchParams.has('token')) {
      // Keep the token in a cookie, and out of the address bar, history and the page's links.
      url.searchParams.delete('token');
      response.writeHead(303, { location: `${url.pathname}${url.search}`, 'set-cookie': `${TOKEN_COOKIE}=${encodeURIComponent(options.token)}; HttpOnly; SameSite=Strict; Path=/`, ...SECURITY_HEADERS });
      response.end();
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', ...SECURITY_HEADERS });
      response.end();
      return;
    }
    if (url.pathname === '/' || url.pathname === '/api/dashboard.json') {
      await snapshot.refresh();
      const { range, available } = await resolveRange(snapshot, { from: url.searchParams.get('from') || undefined, to: url.searchParams.get('to') || undefined });
      const data = await dashboardData(snapshot, range, available);
      if (url.pathname === '/') {
        send(response, 200, 'text/html; charset=utf-8', renderDashboard(data, { format: options.format, takenAt: snapshot.takenAt, busy: snapshot.busy, links: links.forDate }));
      } else {
        send(response, 200, 'application/json', JSON.stringify({ ...data, snapshot: { taken_at: snapshot.takenAt?.toISOString() ?? null, busy: snapshot.busy } }));
      }
      return;
    }
    if (url.pathname.startsWith('/files/') && links.localRoot) {
      await sendFile(response, links.localRoot, decodeURIComponent(url.pathname.slice('/files/'.length)));
      return;
    }
    send(response, 404, 'text/plain; charset=utf-8', '404: not found\n');
  }

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolveListen());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}/`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
      snapshot.close();
    },
  };
}

const SECURITY_HEADERS = {
  // No script, no outside request: the page is HTML and inline SVG with inline styles.
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

function send(response: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), ...SECURITY_HEADERS, ...headers });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}

function fail(response: ServerResponse, error: unknown): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  if (error instanceof InputError) return send(response, 400, 'text/plain; charset=utf-8', `400: ${error.oneLine}\n`);
  if (error instanceof CartlensError && error.transient) return send(response, 503, 'text/plain; charset=utf-8', `503: ${error.oneLine}\n`, { 'retry-after': '5' });
  process.stderr.write(`dashboard: ${(error as Error)?.stack ?? String(error)}\n`);
  send(response, 500, 'text/plain; charset=utf-8', '500: the dashboard failed; see its log\n');
}

/** Bearer header, cookie, or ?token= (which the handler then moves into the cookie). */
function authorized(request: IncomingMessage, url: URL, token: string): boolean {
  const bearer = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1];
  const cookie = (request.headers.cookie ?? '')
    .split(';')
    .map((part) => part.trim().split('='))
    .find(([name]) => name === TOKEN_COOKIE)?.[1];
  const offered = bearer ?? url.searchParams.get('token') ?? (cookie === undefined ? undefined : decodeURIComponent(cookie));
  if (offered === undefined) return false;
  // Compare digests in constant time: equal lengths, and no early exit on the first difference.
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(offered), digest(token));
}

/** Links to a day's files: served by the dashboard from a local export folder, or the bucket's object URLs. */
function fileLinks(config: ExportConfig): { localRoot: string | null; forDate: (date: string) => FileLink[] } {
  const paths = (date: string) => [
    ...PUBLISHED_TABLE_NAMES.map((table) => ({ name: `${table}.csv`, path: `${table}/dt=${date}/${csvFileName(table, date)}` })),
    { name: 'report.html', path: reportPath(date) },
    { name: 'run_report.json', path: `run_report/dt=${date}/run_report_${date.replaceAll('-', '')}.json` },
  ];
  if (config.type === 'local') {
    const root = resolve(config.dir);
    return {
      localRoot: root,
      forDate: (date) => paths(date).filter(({ path }) => existsSync(resolve(root, path))).map(({ name, path }) => ({ name, href: `/files/${path.split('/').map(encodeURIComponent).join('/')}` })),
    };
  }
  // Opens with the viewer's own Google sign-in; the bucket stays private.
  const base = `https://storage.cloud.google.com/${config.bucket}/${config.prefix}`;
  return { localRoot: null, forDate: (date) => paths(date).map(({ name, path }) => ({ name, href: `${base}${path}` })) };
}

async function sendFile(response: ServerResponse, root: string, relative: string): Promise<void> {
  const file = resolve(root, relative);
  const type = FILE_TYPES[extname(file)];
  const info = file.startsWith(root + sep) && type ? await stat(file).catch(() => null) : null;
  if (!type || !info?.isFile()) {
    send(response, 404, 'text/plain; charset=utf-8', '404: not found\n');
    return;
  }
  // A day's report.html is shown as a page; CSV and JSON files are downloaded.
  const disposition = type.startsWith('text/html') ? {} : { 'content-disposition': `attachment; filename="${file.slice(file.lastIndexOf(sep) + 1)}"` };
  response.writeHead(200, { 'content-type': type, 'content-length': info.size, ...SECURITY_HEADERS, ...disposition });
  if (response.req.method === 'HEAD') {
    response.end();
    return;
  }
  createReadStream(file).pipe(response);
}
