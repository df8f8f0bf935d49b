// A local fake of the slice of the Cloud Storage JSON API that cartlens uses, for testing the
// real @google-cloud/storage client against it: multipart upload, object metadata, rewrite
// (server-side copy), delete, with generation preconditions and injected faults.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface StoredObject {
  data: Buffer;
  generation: number;
  contentType: string;
  /** Custom metadata (`metadata` of the object resource); a rewrite copies it. */
  metadata?: Record<string, string>;
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
  path: string;
  query: URLSearchParams;
  status: number;
}

export class FakeGcs {
  readonly objects = new Map<string, StoredObject>();
  /** Bucket resources by name, as the JSON API returns them. */
  readonly buckets = new Map<string, Record<string, unknown>>();
  readonly requests: LoggedRequest[] = [];
  private readonly faults: ArmedFault[] = [];
  private nextGeneration = 1_700_000_000_000_000;
  private server: Server | undefined;

  /** Starts on 127.0.0.1 and returns the base URL to give the client as `apiEndpoint`. */
  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address() as { port: number };
    return `http://127.0.0.1:${address.port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** Makes the next `times` requests that match fail with `fault`. */
  inject(match: { method?: string; path?: RegExp }, fault: Fault, times = 1): void {
    this.faults.push({ match: (m, p) => (!match.method || match.method === m) && (!match.path || match.path.test(p)), fault, times });
  }

  count(method: string, path: RegExp): number {
    return this.requests.filter((r) => r.method === method && path.test(r.path)).length;
  }

  text(name: string): string | undefined {
    return this.objects.get(name)?.data.toString('utf8');
  }

  private takeFault(method: string, path: string): Fault | undefined {
    const armed = this.faults.find((f) => f.times > 0 && f.match(method, path));
    if (!armed) return undefined;
    armed.times--;
    return armed.fault;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
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
      return;
    }
    const body = await readBody(req);
    const reply = (status: number, json: unknown) => {
      if (fault?.kind === 'lost-response' && status < 300) [status, json] = [fault.status, { error: { code: fault.status, message: `injected ${fault.status} after the change` } }];
      log(status);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    };
    if (fault?.kind === 'status') return reply(fault.status, { error: { code: fault.status, message: `injected ${fault.status}` } });

    const upload = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(path);
    const object = /^\/storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(path);
    const rewrite = /^\/storage\/v1\/b\/([^/]+)\/o\/(.+)\/rewriteTo\/b\/([^/]+)\/o\/(.+)$/.exec(path);
    if (method === 'POST' && upload && url.searchParams.get('uploadType') === 'multipart') {
      const name = url.searchParams.get('name')!;
      if (!this.preconditionHolds(name, url.searchParams)) return reply(412, { error: { code: 412, message: 'Precondition Failed' } });
      const { metadata, media } = parseMultipart(req.headers['content-type'] ?? '', body);
      const stored = this.store(name, media, String(metadata.contentType ?? 'application/octet-stream'), metadata.metadata as Record<string, string> | undefined);
      const resource = this.resource(name, stored);
      return reply(200, fault?.kind === 'bad-crc' ? { ...resource, crc32c: crc32cBase64(Buffer.from('not the same bytes')) } : resource);
    }
    if (method === 'POST' && rewrite) {
      const source = this.objects.get(rewrite[2]!);
      if (!source) return reply(404, { error: { code: 404, message: 'No such object' } });
      const target = rewrite[4]!;
      if (!this.preconditionHolds(target, url.searchParams)) return reply(412, { error: { code: 412, message: 'Precondition Failed' } });
      const stored = this.store(target, source.data, source.contentType, source.metadata);
      const size = String(stored.data.length);
      return reply(200, { kind: 'storage#rewriteResponse', totalBytesRewritten: size, objectSize: size, done: true, resource: this.resource(target, stored) });
    }
    const bucketPath = /^\/storage\/v1\/b(?:\/([^/]+))?$/.exec(path);
    if (bucketPath) {
      const name = bucketPath[1];
      if (method === 'POST' && !name) {
        const resource = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
        if (this.buckets.has(String(resource.name))) return reply(409, { error: { code: 409, message: 'You already own this bucket' } });
        const created = { kind: 'storage#bucket', ...resource, location: String(resource.location ?? 'US').toUpperCase(), metageneration: '1' };
        this.buckets.set(String(resource.name), created);
        return reply(200, created);
      }
      const bucket = name ? this.buckets.get(name) : undefined;
      if (!bucket) return reply(404, { error: { code: 404, message: 'The specified bucket does not exist.' } });
      if (method === 'GET') return reply(200, bucket);
      if (method === 'PATCH') {
        Object.assign(bucket, JSON.parse(body.toString('utf8') || '{}'));
        bucket.metageneration = String(Number(bucket.metageneration) + 1);
        return reply(200, bucket);
      }
    }
    if (object && (method === 'GET' || method === 'DELETE')) {
      const stored = this.objects.get(object[2]!);
      if (!stored) return reply(404, { error: { code: 404, message: 'No such object' } });
      if (method === 'DELETE') {
        this.objects.delete(object[2]!);
        log(204);
        res.writeHead(204).end();
        return;
      }
      return reply(200, this.resource(object[2]!, stored));
    }
    reply(501, { error: { code: 501, message: `the fake does not implement ${method} ${path}` } });
  }

  private preconditionHolds(name: string, query: URLSearchParams): boolean {
    const wanted = query.get('ifGenerationMatch');
    if (wanted === null) return true;
    return String(this.objects.get(name)?.generation ?? 0) === wanted;
  }

  /** Puts an object as if another writer had (no precondition); returns its generation. */
  put(name: string, data: string | Buffer, metadata?: Record<string, string>): number {
    return this.store(name, Buffer.from(data), 'text/csv; charset=utf-8', metadata).generation;
  }

  private store(name: string, data: Buffer, contentType: string, metadata?: Record<string, string>): StoredObject {
    const stored = { data, generation: this.nextGeneration++, contentType, ...(metadata ? { metadata } : {}) };
    this.objects.set(name, stored);
    return stored;
  }

  private resource(name: string, stored: StoredObject) {
    return {
      kind: 'storage#object',
      bucket: 'test-bucket',
      name,
      generation: String(stored.generation),
      metageneration: '1',
      contentType: stored.contentType,
      size: String(stored.data.length),
      crc32c: crc32cBase64(stored.data),
      md5Hash: createHash('md5').update(stored.data).digest('base64'),
      ...(stored.metadata ? { metadata: stored.metadata } : {}),
    };
  }
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
  const boundary = /boundary=([^;]+)/.exec(contentType)?.[1];
  if (!boundary) throw new Error('no multipart boundary');
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Buffer[] = [];
  let from = body.indexOf(delimiter);
  while (from !== -1) {
    const next = body.indexOf(delimiter, from + delimiter.length);
    if (next === -1) break;
    parts.push(body.subarray(from + delimiter.length, next));
    from = next;
  }
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
