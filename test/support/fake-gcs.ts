// The local Cloud Storage of `cartlens dev gcp` (src/dev/gcp/local-storage.ts) on a port of its
// own, for testing the real @google-cloud/storage client against it, with the tests' shortcuts:
// objects by name whatever their bucket (each test uses one bucket), and writes of another writer.
import { createServer, type Server } from 'node:http';
import { LocalStorage, type StoredObject } from '../../src/dev/gcp/local-storage.js';

export { crc32cBase64, type Fault, type LoggedRequest, type StoredObject } from '../../src/dev/gcp/local-storage.js';

export class FakeGcs extends LocalStorage {
  private server: Server | undefined;

  /** Starts on 127.0.0.1 and returns the base URL to give the client as `apiEndpoint`. */
  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      void this.handle(req, res).then((handled) => {
        if (handled) return;
        res.writeHead(501, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 501, message: `the fake does not implement ${req.method} ${req.url}` } }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address() as { port: number };
    return `http://127.0.0.1:${address.port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** Every object by name, whatever its bucket. */
  get objects(): Map<string, StoredObject> {
    return new Map([...this.store.values()].flatMap((objects) => [...objects.entries()]));
  }

  text(name: string): string | undefined {
    return this.objects.get(name)?.data.toString('utf8');
  }

  /** Puts an object as if another writer had (no precondition), in the bucket in use; returns its generation. */
  put(name: string, data: string | Buffer, metadata?: Record<string, string>): number {
    return this.putObject([...this.store.keys()][0] ?? 'test-bucket', name, data, 'text/csv; charset=utf-8', metadata);
  }
}
