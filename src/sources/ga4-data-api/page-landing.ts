import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CRC32C, type Bucket } from '@google-cloud/storage';
import type { FetchedReport } from './fetcher.js';

/** Who landed a report's pages: every page names its run, property, report, date and number. */
export interface PageContext {
  runId: string;
  property: string;
}

/**
 * Where GA4 Data API response pages land, unchanged and with their requests, before anything
 * reads them: `ga4-api/<property>/<date>/<report>/<run>/page-NNNNN.json`, one JSON document a
 * page on one line (newline-delimited JSON, as a BigQuery load job reads it). Local folders for
 * DuckDB; `_raw/` at the bucket's root for BigQuery, which BI readers are never granted.
 */
export interface PageLanding {
  readonly kind: 'local' | 'gcs';
  readonly description: string;
  /** Lands every page of a fetched report; returns where each one is (paths or `gs://` URIs). */
  land(fetched: FetchedReport, context: PageContext): Promise<string[]>;
}

/** The landed document of one page: the response and its request, as the API exchanged them, under the landing's own fields. */
export function pageDocument(fetched: FetchedReport, page: number, context: PageContext): string {
  const { request, response } = fetched.pages[page]!;
  return `${JSON.stringify({ run_id: context.runId, property: context.property, report: fetched.report, date: fetched.date, page, request, response })}\n`;
}

function pagePath(fetched: FetchedReport, page: number, context: PageContext): string {
  const property = context.property.replace(/^properties\//, '');
  return ['ga4-api', property, fetched.date, fetched.report, context.runId, `page-${String(page).padStart(5, '0')}.json`].join('/');
}

/** Pages in a local folder (the landing folder), each written under a temporary name and renamed. */
export class LocalPageLanding implements PageLanding {
  readonly kind = 'local';

  constructor(private readonly dir: string) {}

  get description(): string {
    return this.dir;
  }

  async land(fetched: FetchedReport, context: PageContext): Promise<string[]> {
    const files: string[] = [];
    for (let page = 0; page < fetched.pages.length; page++) {
      const file = join(this.dir, ...pagePath(fetched, page, context).split('/'));
      await mkdir(join(file, '..'), { recursive: true });
      await writeFile(`${file}.tmp`, pageDocument(fetched, page, context));
      await rename(`${file}.tmp`, file);
      files.push(file);
    }
    return files;
  }
}

/** The slice of the Storage SDK the landing calls. */
export type PageBucketLike = Pick<Bucket, 'file' | 'name'>;

/**
 * Pages in Cloud Storage under `_raw/` at the bucket's root — outside the export prefix, which BI
 * readers are granted; the bucket's lifecycle deletes them after `retention.landed_days`. Each object is created with `ifGenerationMatch: 0`:
 * a page is written once (a name holds a run's page), and the precondition lets the client retry
 * a lost request safely; a 412 on a retry means the first attempt got through.
 */
export class GcsPageLanding implements PageLanding {
  readonly kind = 'gcs';

  constructor(private readonly bucket: PageBucketLike) {}

  get description(): string {
    return `gs://${this.bucket.name}/_raw/`;
  }

  async land(fetched: FetchedReport, context: PageContext): Promise<string[]> {
    const uris: string[] = [];
    for (let page = 0; page < fetched.pages.length; page++) {
      const name = `_raw/${pagePath(fetched, page, context)}`;
      const document = pageDocument(fetched, page, context);
      try {
        await this.bucket.file(name).save(document, { resumable: false, contentType: 'application/x-ndjson', validation: 'crc32c', preconditionOpts: { ifGenerationMatch: 0 } });
      } catch (error) {
        if ((error as { code?: number }).code !== 412) throw error;
        // The name exists: a lost answer to our own first write, if it holds these very bytes.
        const [existing] = await this.bucket.file(name).getMetadata();
        const bytes = Buffer.from(document, 'utf8');
        const crc32c = new CRC32C();
        crc32c.update(bytes);
        if (existing.crc32c !== crc32c.toString() || Number(existing.size) !== bytes.length) {
          throw new Error(`gs://${this.bucket.name}/${name} already holds another page`, { cause: error });
        }
      }
      uris.push(`gs://${this.bucket.name}/${name}`);
    }
    return uris;
  }
}
