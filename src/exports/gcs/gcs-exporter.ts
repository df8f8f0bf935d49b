import { createHash, randomUUID } from 'node:crypto';
import { CRC32C, type Bucket } from '@google-cloud/storage';
import { accessError, CartlensError, PublishError } from '../../util/errors.js';
import type { CsvContent } from '../csv.js';
import { csvFileName, type Exporter, type PublishedFile } from '../exporter.js';

/** The slice of the Storage SDK the exporter calls, so tests can point the real client anywhere. */
export type GcsBucketLike = Pick<Bucket, 'file' | 'name'>;

/** How many times a whole upload is tried again when the bytes arrived changed (CRC32C mismatch). */
const CRC_ATTEMPTS = 3;

/**
 * Publishes to a Cloud Storage bucket in the contract's layout under `prefix`. Each object is
 * uploaded to a run-unique name under `<prefix>_incoming/` with CRC32C validation (the client
 * compares its checksum with the server's), then copied server-side to its final name with a
 * generation precondition, so a final name only ever holds a complete, verified object; the
 * manifest goes last. Every request that changes something carries a precondition, which is what
 * lets the client retry it safely (503, 429, reset connections); 400, 401 and 403 are never
 * retried. A bucket lifecycle rule sweeps `_incoming/` of objects a failed run left behind.
 *
 * Each object carries its SHA-256 in its custom metadata (`sha256`, kept by the copy). A 412 —
 * typically a retried request whose first attempt had landed — is settled by reading the object:
 * the same content means it is already published; other content fails the publish.
 */
export class GcsExporter implements Exporter {
  private readonly incoming: string;

  constructor(
    private readonly bucket: GcsBucketLike,
    private readonly prefix: string,
  ) {
    this.incoming = `${prefix}_incoming/${randomUUID()}`;
  }

  get description(): string {
    return `gs://${this.bucket.name}/${this.prefix}`;
  }

  async publish(table: string, date: string, csv: CsvContent, extra: Record<string, unknown> = {}): Promise<PublishedFile> {
    const chunks: Buffer[] = [];
    for await (const chunk of csv.chunks) chunks.push(Buffer.from(chunk, 'utf8'));
    const bytes = Buffer.concat(chunks);
    const folder = `${this.prefix}${table}/dt=${date}/`;
    const name = csvFileName(table, date);
    // The old manifest goes before the object changes: a manifest never describes another object.
    await guarded(`delete gs://${this.bucket.name}/${folder}manifest.json`, () => this.bucket.file(`${folder}manifest.json`).delete({ ignoreNotFound: true }));
    const { sha256 } = await this.putObject(`${folder}${name}`, bytes, 'text/csv; charset=utf-8');
    const manifest = { table, date, file: name, rows: csv.rowCount(), bytes: bytes.length, sha256, ...extra };
    await this.putObject(`${folder}manifest.json`, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`), 'application/json');
    return { table, date, location: `gs://${this.bucket.name}/${folder}${name}`, rows: manifest.rows, bytes: bytes.length, sha256 };
  }

  async remove(table: string, date: string): Promise<void> {
    const folder = `${this.prefix}${table}/dt=${date}/`;
    // The manifest first, so that no manifest ever names a missing file.
    for (const name of ['manifest.json', csvFileName(table, date)]) {
      await guarded(`delete gs://${this.bucket.name}/${folder}${name}`, () => this.bucket.file(`${folder}${name}`).delete({ ignoreNotFound: true }));
    }
  }

  async writeJson(relativePath: string, document: unknown): Promise<string> {
    return this.writeText(relativePath, `${JSON.stringify(document, null, 2)}\n`, 'application/json');
  }

  async readJson(relativePath: string): Promise<unknown> {
    const name = `${this.prefix}${relativePath}`;
    const file = this.bucket.file(name);
    const [exists] = await guarded(`read gs://${this.bucket.name}/${name}`, () => file.exists());
    if (!exists) return undefined;
    const [bytes] = await guarded(`read gs://${this.bucket.name}/${name}`, () => file.download());
    return JSON.parse(bytes.toString('utf8')) as unknown;
  }

  async deleteFile(relativePath: string): Promise<void> {
    const name = `${this.prefix}${relativePath}`;
    await guarded(`delete gs://${this.bucket.name}/${name}`, () => this.bucket.file(name).delete({ ignoreNotFound: true }));
  }

  async writeText(relativePath: string, text: string, contentType: string): Promise<string> {
    const name = `${this.prefix}${relativePath}`;
    await this.putObject(name, Buffer.from(text), contentType);
    return `gs://${this.bucket.name}/${name}`;
  }

  /** Nothing to sweep here: uploads go to `_incoming/`, never beside published objects, and a lifecycle rule deletes them. */
  async sweepTemporaryFiles(): Promise<string[]> {
    return [];
  }

  /** Upload under a unique name, verified; copy into place; drop the upload. */
  private async putObject(finalName: string, data: Buffer, contentType: string): Promise<{ sha256: string }> {
    const where = `gs://${this.bucket.name}/${finalName}`;
    const sha256 = createHash('sha256').update(data).digest('hex');
    let uploaded: string | undefined;
    for (let attempt = 1; !uploaded; attempt++) {
      const candidate = `${this.incoming}/${randomUUID()}`;
      try {
        await this.bucket.file(candidate).save(data, { resumable: false, validation: 'crc32c', metadata: { contentType, metadata: { sha256 } }, preconditionOpts: { ifGenerationMatch: 0 } });
        uploaded = candidate;
      } catch (error) {
        // The client deletes an upload whose checksum does not match; sending it again can work.
        if (attempt < CRC_ATTEMPTS && /did not match/i.test((error as Error).message)) continue;
        // The name is new to this upload: a 412 means an earlier attempt of it landed.
        if (isPreconditionFailure(error) && (await this.holds(candidate, data, sha256))) uploaded = candidate;
        else throw classify(`upload of ${where}`, error);
      }
    }
    const upload = this.bucket.file(uploaded);
    try {
      const generation = await guarded(`read of ${where}`, async () => {
        const [metadata] = await this.bucket.file(finalName).getMetadata().catch((error: { code?: number }) => {
          if (error.code === 404) return [{ generation: 0 }];
          throw error;
        });
        return Number(metadata.generation ?? 0);
      });
      await guarded(`copy to ${where}`, async () => {
        try {
          await upload.copy(this.bucket.file(finalName), { preconditionOpts: { ifGenerationMatch: generation } });
        } catch (error) {
          // A retried copy whose first attempt landed, or another writer: the content decides.
          if (!isPreconditionFailure(error) || !(await this.holds(finalName, data, sha256))) throw error;
        }
      });
    } finally {
      // Best effort: without a precondition a delete is not retried, and lifecycle sweeps leftovers.
      await upload.delete({ ignoreNotFound: true }).catch(() => undefined);
    }
    return { sha256 };
  }

  /**
   * Whether the object holds exactly `data`: by the SHA-256 in its metadata, or, for an object
   * written without it, by the MD5 the service keeps, or by CRC32C and size (composite objects
   * have no MD5).
   */
  private async holds(name: string, data: Buffer, sha256: string): Promise<boolean> {
    const [metadata] = await guarded(`read of gs://${this.bucket.name}/${name}`, () => this.bucket.file(name).getMetadata());
    const recorded = metadata.metadata?.sha256;
    if (typeof recorded === 'string') return recorded === sha256;
    if (metadata.md5Hash) return metadata.md5Hash === createHash('md5').update(data).digest('base64');
    return metadata.crc32c === CRC32C.from(data).toString() && Number(metadata.size) === data.length;
  }
}

function isPreconditionFailure(error: unknown): boolean {
  return (error as { code?: unknown }).code === 412;
}

async function guarded<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw classify(what, error);
  }
}

/** Rewrites a client error as one of ours: permissions and bad requests are terminal. */
function classify(what: string, error: unknown): CartlensError {
  if (error instanceof CartlensError) return error;
  // Unreachable or unauthenticated: the same words as BigQuery's, still a publish failure.
  const access = accessError(what, error);
  if (access) return new PublishError(access.message, access.hint, access.transient, { cause: error });
  const code = (error as { code?: number | string }).code;
  const message = ((error as Error).message ?? String(error)).split('\n')[0];
  if (code === 401 || code === 403) {
    return new PublishError(`${what} was refused (${code}): ${message}`, "check Application Default Credentials and that the pipeline's service account has roles/storage.objectUser on the bucket (deploy/iam.yaml)", false, { cause: error });
  }
  if (code === 412) {
    return new PublishError(`${what}: another object is there, changed while publishing (412)`, 'another writer publishes to the same prefix: give each environment its own prefix', false, { cause: error });
  }
  const transient = code === undefined || code === 408 || code === 429 || (typeof code === 'number' && code >= 500) || typeof code === 'string';
  return new PublishError(`${what} failed${code ? ` (${code})` : ''}: ${message}`, transient ? 'a temporary Cloud Storage problem: run again' : 'check the export config (bucket, prefix)', transient, { cause: error });
}
