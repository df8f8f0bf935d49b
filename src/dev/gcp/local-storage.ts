// A local Cloud Storage: the slice of the JSON API that cartlens' exporter and the GA4 Data API's
// page landing use, for the real @google-cloud/storage client. Multipart and media uploads with
// generation preconditions, object metadata and media, rewrite (server-side copy), list, delete,
// buckets; CRC32C and MD5 as the service computes them; injected faults for tests. With a folder,
// each object is also a file `<folder>/<bucket>/<object name>`, so that a person can open what
// would be published.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join, relative, sep } from 'node:path';

export interface StoredObject {
  data: Buffer;
  generation: number;
  contentType: string;
  /** Custom metadata (`metadata` of the object resource); a rewrite copies it. */
  metadata?: Record<string, string>;
  updated: number;
}

export type Fault =
  | { kind: 'status'; status: number }
  /** Reads part of the request body, then destroys the connection. */
  | { kind: 'reset' }
  /** Stores the object but answers with a wrong CRC32C, as if the bytes changed in flight. */
  | { kind: 'bad-crc' }
  /** Does the request, then answers `status` as if its response were lost on the way back. */
  | { kind: 'lost-response'; status: number };

interface ArmedFault {
  match: (method: string, path: string) => boolean;
  fault: Fault;
  times: number;
}

export interface LoggedRequest {
  method: string;
  /** The path, percent-decoded. */
  path: string;
  query: URLSearchParams;
  status: number;
}

export class LocalStorage {
  /** Bucket resources by name, as the JSON API returns them (only buckets created through the API). */
  readonly buckets = new Map<string, Record<string, unknown>>();
  readonly requests: LoggedRequest[] = [];
  /** Objects by bucket, then name. A bucket that was never created still takes objects. */
  protected readonly store = new Map<string, Map<string, StoredObject>>();
  private readonly faults: ArmedFault[] = [];
  private nextGeneration = Date.now() * 1000;

  /** `folder`: keep a file of each object there (existing files are loaded as objects). */
  constructor(private readonly folder?: string) {
    if (folder) this.loadFolder(folder);
  }

  /** Makes the next `times` requests that match fail with `fault`. */
  inject(match: { method?: string; path?: RegExp }, fault: Fault, times = 1): void {
    this.faults.push({ match: (m, p) => (!match.method || match.method === m) && (!match.path || match.path.test(p)), fault, times });
  }

  count(method: string, path: RegExp): number {
    return this.requests.filter((r) => r.method === method && path.test(r.path)).length;
  }

  object(bucket: string, name: string): StoredObject | undefined {
    return this.store.get(bucket)?.get(name);
  }

  objectsOf(bucket: string): Map<string, StoredObject> {
    return this.store.get(bucket) ?? new Map();
  }

  /** Puts an object as another writer would (no precondition); returns its generation. */
  putObject(bucket: string, name: string, data: string | Buffer, contentType = 'application/octet-stream', metadata?: Record<string, string>): number {
    return this.save(bucket, name, Buffer.from(data), contentType, metadata).generation;
  }

  /** Handles a request under `/storage/v1`, `/upload/storage/v1` or `/download/storage/v1`; false for any other path. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (!/^\/(upload\/|download\/)?storage\/v1\//.test(url.pathname)) return false;
    const method = req.method ?? 'GET';
    const path = decodeURIComponent(url.pathname);
    const fault = this.takeFault(method, path);
    const log = (status: number) => this.requests.push({ method, path, query: url.searchParams, status });
    if (fault?.kind === 'reset') {
      // Take a little of the body, then drop the connection mid-request.
      req.once('data', () => {
        log(0);
        req.socket.destroy();
      });
      req.once('end', () => req.socket.destroy());
      return true;
    }
    const body = await readBody(req);
    const reply = (status: number, json: unknown) => {
      if (fault?.kind === 'lost-response' && status < 300) [status, json] = [fault.status, { error: { code: fault.status, message: `injected ${fault.status} after the change` } }];
      log(status);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    };
    const error = (status: number, message: string) => reply(status, { error: { code: status, message, errors: [{ message, domain: 'global', reason: REASONS[status] ?? 'invalid' }] } });
    if (fault?.kind === 'status') {
      error(fault.status, `injected ${fault.status}`);
      return true;
    }
    try {
      this.route(method, url, body, req, reply, error, (status, data, contentType) => {
        log(status);
        res.writeHead(status, { 'content-type': contentType, 'content-length': data.length });
        res.end(data);
      }, fault);
    } catch (failure) {
      error(failure instanceof StorageError ? failure.status : 500, (failure as Error).message);
    }
    return true;
  }

  private route(
    method: string,
    url: URL,
    body: Buffer,
    req: IncomingMessage,
    reply: (status: number, json: unknown) => void,
    error: (status: number, message: string) => void,
    send: (status: number, data: Buffer, contentType: string) => void,
    fault: Fault | undefined,
  ): void {
    // Names are matched undecoded: an object name's slashes arrive as %2F.
    const raw = url.pathname;
    const query = url.searchParams;
    const segment = (text: string) => decodeURIComponent(text);
    const upload = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(raw);
    const rewrite = /^\/storage\/v1\/b\/([^/]+)\/o\/([^/]+)\/rewriteTo\/b\/([^/]+)\/o\/([^/]+)$/.exec(raw);
    const object = /^\/(?:download\/)?storage\/v1\/b\/([^/]+)\/o\/([^/]+)$/.exec(raw);
    const list = /^\/storage\/v1\/b\/([^/]+)\/o$/.exec(raw);
    const bucketPath = /^\/storage\/v1\/b(?:\/([^/]+))?$/.exec(raw);

    if (method === 'POST' && upload) {
      const bucket = segment(upload[1]!);
      const type = query.get('uploadType');
      let name = query.get('name') ?? undefined;
      let media = body;
      let contentType = String(req.headers['content-type'] ?? 'application/octet-stream');
      let metadata: Record<string, string> | undefined;
      if (type === 'multipart') {
        const parts = parseMultipart(contentType, body);
        name ??= parts.metadata.name as string | undefined;
        media = parts.media;
        contentType = String(parts.metadata.contentType ?? 'application/octet-stream');
        metadata = parts.metadata.metadata as Record<string, string> | undefined;
      } else if (type !== 'media') {
        return error(501, `the local Cloud Storage takes uploadType=multipart or media, not ${type}`);
      }
      if (!name) return error(400, 'Required parameter: name');
      if (!this.preconditionHolds(bucket, name, query)) return error(412, 'Precondition Failed');
      const stored = this.save(bucket, name, media, contentType, metadata);
      const resource = this.resource(bucket, name, stored);
      return reply(200, fault?.kind === 'bad-crc' ? { ...resource, crc32c: crc32cBase64(Buffer.from('not the same bytes')) } : resource);
    }
    if (method === 'POST' && rewrite) {
      const source = this.object(segment(rewrite[1]!), segment(rewrite[2]!));
      if (!source) return error(404, 'No such object');
      const [bucket, target] = [segment(rewrite[3]!), segment(rewrite[4]!)];
      if (!this.preconditionHolds(bucket, target, query)) return error(412, 'Precondition Failed');
      const stored = this.save(bucket, target, source.data, source.contentType, source.metadata);
      const size = String(stored.data.length);
      return reply(200, { kind: 'storage#rewriteResponse', totalBytesRewritten: size, objectSize: size, done: true, resource: this.resource(bucket, target, stored) });
    }
    if (object && (method === 'GET' || method === 'DELETE')) {
      const [bucket, name] = [segment(object[1]!), segment(object[2]!)];
      const stored = this.object(bucket, name);
      if (!stored) return error(404, `No such object: ${bucket}/${name}`);
      if (!this.generationHolds(stored, query)) return error(412, 'Precondition Failed');
      if (method === 'DELETE') {
        this.remove(bucket, name);
        return send(204, Buffer.alloc(0), 'application/json');
      }
      if (query.get('alt') === 'media') return send(200, stored.data, stored.contentType);
      return reply(200, this.resource(bucket, name, stored));
    }
    if (method === 'GET' && list) {
      const bucket = segment(list[1]!);
      const prefix = query.get('prefix') ?? '';
      const delimiter = query.get('delimiter') ?? '';
      const names = [...this.objectsOf(bucket).keys()].filter((name) => name.startsWith(prefix)).sort();
      const items: string[] = [];
      const prefixes = new Set<string>();
      for (const name of names) {
        const cut = delimiter ? name.indexOf(delimiter, prefix.length) : -1;
        if (cut >= 0) prefixes.add(name.slice(0, cut + delimiter.length));
        else items.push(name);
      }
      return reply(200, { kind: 'storage#objects', items: items.map((name) => this.resource(bucket, name, this.object(bucket, name)!)), ...(prefixes.size ? { prefixes: [...prefixes] } : {}) });
    }
    if (bucketPath) {
      const name = bucketPath[1] && segment(bucketPath[1]);
      if (method === 'POST' && !name) {
        const resource = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
        if (this.buckets.has(String(resource.name))) return error(409, 'You already own this bucket. Please select another name.');
        const created = { kind: 'storage#bucket', ...resource, location: String(resource.location ?? 'US').toUpperCase(), metageneration: '1' };
        this.buckets.set(String(resource.name), created);
        return reply(200, created);
      }
      const bucket = name ? this.buckets.get(name) : undefined;
      if (!bucket) return error(404, 'The specified bucket does not exist.');
      if (method === 'GET') return reply(200, bucket);
      if (method === 'PATCH') {
        Object.assign(bucket, JSON.parse(body.toString('utf8') || '{}'));
        bucket.metageneration = String(Number(bucket.metageneration) + 1);
        return reply(200, bucket);
      }
    }
    error(501, `the local Cloud Storage does not implement ${method} ${decodeURIComponent(raw)}`);
  }

  private takeFault(method: string, path: string): Fault | undefined {
    const armed = this.faults.find((f) => f.times > 0 && f.match(method, path));
    if (!armed) return undefined;
    armed.times--;
    return armed.fault;
  }

  private preconditionHolds(bucket: string, name: string, query: URLSearchParams): boolean {
    const wanted = query.get('ifGenerationMatch');
    if (wanted === null) return true;
    return String(this.object(bucket, name)?.generation ?? 0) === wanted;
  }

  private generationHolds(stored: StoredObject, query: URLSearchParams): boolean {
    const wanted = query.get('ifGenerationMatch');
    return wanted === null || String(stored.generation) === wanted;
  }

  private save(bucket: string, name: string, data: Buffer, contentType: string, metadata?: Record<string, string>, generation = this.nextGeneration++): StoredObject {
    if (this.folder) this.writeFile(bucket, name, data);
    const stored: StoredObject = { data, generation, contentType, ...(metadata ? { metadata } : {}), updated: Date.now() };
    if (!this.store.has(bucket)) this.store.set(bucket, new Map());
    this.store.get(bucket)!.set(name, stored);
    return stored;
  }

  private remove(bucket: string, name: string): void {
    this.store.get(bucket)?.delete(name);
    if (!this.folder) return;
    const file = this.fileOf(bucket, name);
    rmSync(file, { force: true });
    // Folders that only held this object go with it (as `_incoming/` uploads do).
    const root = join(this.folder, bucket);
    for (let dir = dirname(file); dir.startsWith(root + sep) && readdirSync(dir).length === 0; dir = dirname(dir)) rmdirSync(dir);
  }

  private fileOf(bucket: string, name: string): string {
    const parts = name.split('/');
    if (/[\\/]|^\.\.?$/.test(bucket) || parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('\\') || p.includes('\0'))) {
      throw new StorageError(400, `the local Cloud Storage keeps objects as files, and gs://${bucket}/${name} cannot be one`);
    }
    return join(this.folder!, bucket, ...parts);
  }

  private writeFile(bucket: string, name: string, data: Buffer): void {
    const file = this.fileOf(bucket, name);
    try {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(`${file}.local-storage.tmp`, data);
      renameSync(`${file}.local-storage.tmp`, file);
    } catch (failure) {
      throw new StorageError(400, `the local Cloud Storage cannot keep gs://${bucket}/${name} as ${file}: ${(failure as Error).message}`);
    }
  }

  /** Every file under `<folder>/<bucket>/` as an object of that bucket. */
  private loadFolder(folder: string): void {
    mkdirSync(folder, { recursive: true });
    for (const bucket of readdirSync(folder, { withFileTypes: true }).filter((e) => e.isDirectory())) {
      const root = join(folder, bucket.name);
      const files = readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && !e.name.endsWith('.local-storage.tmp'));
      for (const file of files.map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)).sort()) {
        const name = relative(root, file).split(sep).join('/');
        const data = readFileSync(file);
        const stored: StoredObject = { data, generation: this.nextGeneration++, contentType: contentTypeOf(name), updated: statSync(file).mtimeMs };
        if (!this.store.has(bucket.name)) this.store.set(bucket.name, new Map());
        this.store.get(bucket.name)!.set(name, stored);
      }
    }
  }

  protected resource(bucket: string, name: string, stored: StoredObject) {
    return {
      kind: 'storage#object',
      bucket,
      name,
      generation: String(stored.generation),
      metageneration: '1',
      contentType: stored.contentType,
      size: String(stored.data.length),
      updated: new Date(stored.updated).toISOString(),
      crc32c: crc32cBase64(stored.data),
      md5Hash: createHash('md5').update(stored.data).digest('base64'),
      ...(stored.metadata ? { metadata: stored.metadata } : {}),
    };
  }
}

class StorageError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const REASONS: Record<number, string> = { 400: 'invalid', 403: 'forbidden', 404: 'notFound', 409: 'conflict', 412: 'conditionNotMet', 429: 'rateLimitExceeded', 501: 'notImplemented', 503: 'backendError' };

function contentTypeOf(name: string): string {
  if (name.endsWith('.csv')) return 'text/csv; charset=utf-8';
  if (name.endsWith('.json')) return 'application/json';
  if (name.endsWith('.html')) return 'text/html; charset=utf-8';
  return 'application/octet-stream';
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** A multipart/related upload: a JSON metadata part, then the media part. */
function parseMultipart(contentType: string, body: Buffer): { metadata: Record<string, unknown>; media: Buffer } {
  const boundary = /boundary=([^;]+)/.exec(contentType)?.[1]?.replace(/^"|"$/g, '');
  if (!boundary) throw new StorageError(400, 'a multipart upload without a boundary');
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Buffer[] = [];
  let from = body.indexOf(delimiter);
  while (from !== -1) {
    const next = body.indexOf(delimiter, from + delimiter.length);
    if (next === -1) break;
    parts.push(body.subarray(from + delimiter.length, next));
    from = next;
  }
  if (parts.length < 2) throw new StorageError(400, 'a multipart upload needs a metadata part and a media part');
  const content = (part: Buffer) => {
    const start = part.indexOf('\r\n\r\n') + 4;
    return part.subarray(start, part.length - 2); // drop the CRLF before the next delimiter
  };
  return { metadata: JSON.parse(content(parts[0]!).toString('utf8')) as Record<string, unknown>, media: Buffer.from(content(parts[1]!)) };
}

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC32C (Castagnoli), big-endian, base64: the form of the JSON API's `crc32c` field. */
export function crc32cBase64(data: Buffer): string {
  let crc = 0xffffffff;
  for (const byte of data) crc = CRC32C_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  const out = Buffer.alloc(4);
  out.writeUInt32BE((crc ^ 0xffffffff) >>> 0);
  return out.toString('base64');
}
