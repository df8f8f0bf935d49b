import { createHash, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, extname, join, resolve, sep } from 'node:path';
import type { ExportConfig } from '../config/schema.js';
import { completionMarkerPath } from '../exports/exporter.js';
import { lastRunReportPath, reportPath, runReportPath } from '../reports/daily-report.js';
import type { ReportFormatOptions } from '../reports/render.js';
import { CartlensError, ConfigError, InputError } from '../util/errors.js';
import type { FileLink } from './page.js';
import { WarehouseSnapshot, type SnapshotSource } from './snapshot.js';
import { eventsView, type DashboardView } from './view.js';
import type { RunStateKeys } from '../sources/source.js';

export interface DashboardOptions {
  host: string;
  /** 0: any free port. */
  port: number;
  /** Required on every request when set; required to be set when `host` is not loopback. */
  token?: string | undefined;
  /** Where the dashboard's copy of the published tables comes from (read only). */
  warehouse: SnapshotSource;
  /** The configured source's run_state keys (sources/source.ts runStateKeys): whose days the status table shows. */
  runStateKeys: RunStateKeys;
  format: ReportFormatOptions;
  /** Where the day's files are, for the links of the status table. */
  exportConfig: ExportConfig;
  /** What the page shows, chosen from the source's kind (view.ts viewFor); default: the events'. */
  view?: DashboardView | undefined;
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
  if (options.token !== undefined && options.token.trim().length < 16) {
    throw new ConfigError('the dashboard token (serve.token or CARTLENS_SERVE_TOKEN) is shorter than 16 characters', 'use a long random value, e.g. `openssl rand -hex 24`');
  }
  const view = options.view ?? eventsView;
  const snapshot = await WarehouseSnapshot.create(options.warehouse, options.runStateKeys, view.copy);
  const links = fileLinks(options.exportConfig, view);
  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => fail(response, error));
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://dashboard');
    if (!options.token && !LOOPBACK_HOSTS.has(hostName(request.headers.host))) {
      // Without a token, only this machine's own names: a page elsewhere that points its domain
      // at 127.0.0.1 (DNS rebinding) must not read the dashboard.
      send(response, 421, 'text/plain; charset=utf-8', '421: without a token, this dashboard answers only to 127.0.0.1, [::1] and localhost\n');
      return;
    }
    if (options.token && !authorized(request, url, options.token)) {
      response.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer realm="cartlens"', ...SECURITY_HEADERS });
      response.end('401: an access token is required (Authorization: Bearer <token>, or ?token=<token> once)\n');
      return;
    }
    if (options.token && url.searchParams.has('token')) {
      // Keep the token in a cookie, and out of the address bar, history and the page's links.
      url.searchParams.delete('token');
      // Lax, so that a link to the dashboard from a mail or a chat still carries the cookie
      // (the server only answers GET and HEAD, so nothing changes state on a cross-site request).
      const location = `/${url.pathname.replace(/^\/+/, '')}${url.search}`;
      response.writeHead(303, { location, 'set-cookie': `${TOKEN_COOKIE}=${encodeURIComponent(options.token)}; HttpOnly; SameSite=Lax; Path=/`, ...SECURITY_HEADERS });
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
      const asked = { from: url.searchParams.get('from') || undefined, to: url.searchParams.get('to') || undefined };
      const data = await snapshot.read((query) => view.data(query, asked));
      if (url.pathname === '/') {
        send(response, 200, 'text/html; charset=utf-8', view.render(data, { format: options.format, takenAt: snapshot.takenAt, busy: snapshot.busy, stale: snapshot.stale, links: links.forDate }));
      } else {
        send(response, 200, 'application/json', JSON.stringify({ ...(data as object), snapshot: { taken_at: snapshot.takenAt?.toISOString() ?? null, busy: snapshot.busy, stale: snapshot.stale } }));
      }
      return;
    }
    if (url.pathname.startsWith('/files/') && links.localRoot) {
      await sendFile(response, links.localRoot, url.pathname.slice('/files/'.length), view);
      return;
    }
    send(response, 404, 'text/plain; charset=utf-8', '404: not found\n');
  }

  await new Promise<void>((resolveListen, reject) => {
    const failedToListen = (error: NodeJS.ErrnoException) => {
      void snapshot.close();
      const why = { EADDRINUSE: 'is in use', EADDRNOTAVAIL: 'is not an address of this machine', EACCES: 'needs privileges' }[error.code ?? ''];
      reject(why ? new ConfigError(`serve: ${options.host}:${options.port} ${why}`, 'choose another with --port / --host or serve.port / serve.host', false, { cause: error }) : error);
    };
    server.once('error', failedToListen);
    server.listen(options.port, options.host, () => {
      server.off('error', failedToListen);
      // Once listening, an error (e.g. out of file descriptors on accept) is logged, not fatal.
      server.on('error', (error) => process.stderr.write(`dashboard: ${error.message}\n`));
      resolveListen();
    });
  });
  snapshot.startWatching();
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}/`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
      await snapshot.close();
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
  const offered = bearer ?? url.searchParams.get('token') ?? tokenCookie(request.headers.cookie);
  if (offered === undefined) return false;
  // Compare digests in constant time: equal lengths, and no early exit on the first difference.
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(offered), digest(token));
}

/** The token cookie's value; undefined when absent or not one we set (a malformed `%` escape). */
function tokenCookie(header: string | undefined): string | undefined {
  const raw = (header ?? '')
    .split(';')
    .map((part) => part.trim().split('='))
    .find(([name]) => name === TOKEN_COOKIE)?.[1];
  if (raw === undefined) return undefined;
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

/** Links to a day's files (the view's): served by the dashboard from a local export folder, or the bucket's object URLs. */
function fileLinks(config: ExportConfig, view: DashboardView): { localRoot: string | null; forDate: (date: string) => FileLink[] } {
  const paths = (date: string) => view.dayFiles(date);
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

async function sendFile(response: ServerResponse, root: string, encoded: string, view: DashboardView): Promise<void> {
  let relative: string;
  try {
    relative = decodeURIComponent(encoded);
  } catch {
    send(response, 404, 'text/plain; charset=utf-8', '404: not found\n');
    return;
  }
  const file = resolve(root, relative);
  const type = FILE_TYPES[extname(file)];
  // Only what cartlens published: an export folder may hold other files (once, the raw input).
  if (!(await isPublished(root, relative, view))) {
    send(response, 404, 'text/plain; charset=utf-8', '404: not found\n');
    return;
  }
  // A run may replace or delete the file at any moment: size and bytes come from one open handle.
  const handle = file.startsWith(root + sep) && type ? await open(file, 'r').catch(() => null) : null;
  const info = handle ? await handle.stat().catch(() => null) : null;
  if (!type || !handle || !info?.isFile()) {
    await handle?.close();
    send(response, 404, 'text/plain; charset=utf-8', '404: not found\n');
    return;
  }
  // A day's report.html is shown as a page; CSV and JSON files are downloaded.
  const disposition = type.startsWith('text/html') ? {} : { 'content-disposition': `attachment; filename="${basename(file)}"` };
  response.writeHead(200, { 'content-type': type, 'content-length': info.size, ...SECURITY_HEADERS, ...disposition });
  if (response.req.method === 'HEAD') {
    await handle.close();
    response.end();
    return;
  }
  await pipeline(handle.createReadStream(), response).catch(() => response.destroy());
}

/**
 * Whether `relative` (under the export root) is a file the view's source publishes there: one of
 * its tables' CSV named by the manifest beside it, and that manifest; a date's report.html, run
 * report and completion marker, and the last run's report, in the source's folder. Anything
 * else in the folder (another source's files, raw input put there by mistake) is never served.
 */
async function isPublished(root: string, relative: string, view: DashboardView): Promise<boolean> {
  const parts = relative.split('/');
  if (parts.some((part) => part === '' || part === '.' || part === '..' || part.includes('\\'))) return false;
  if (relative === lastRunReportPath(view.namespace)) return true;
  const date = /\/dt=(\d{4}-\d{2}-\d{2})(?:\/|\.json$)/.exec(relative)?.[1];
  if (!date) return false;
  if (relative === completionMarkerPath(date, view.namespace) || relative === reportPath(date, view.namespace) || relative === runReportPath(date, view.namespace)) return true;
  const [folder, partition, name, ...deeper] = parts;
  if (!view.tables.includes(folder!) || partition !== `dt=${date}` || !name || deeper.length > 0) return false;
  const manifest = await readFile(join(root, folder!, partition, 'manifest.json'), 'utf8')
    .then((text) => JSON.parse(text) as { table?: unknown; date?: unknown; file?: unknown })
    .catch(() => null);
  if (!manifest || manifest.table !== folder || manifest.date !== date) return false;
  return name === 'manifest.json' || name === manifest.file;
}

/** The name in a Host header, without its port (IPv6 addresses in brackets come out bare). */
function hostName(header: string | undefined): string {
  const match = /^\[([^\]]+)\](?::\d+)?$|^([^:]+)(?::\d+)?$/.exec(header ?? '');
  return (match?.[1] ?? match?.[2] ?? '').toLowerCase();
}
