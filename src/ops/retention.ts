import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readsApiPages, type Warehouse } from '../warehouse/warehouse.js';
import { addDays, localDate } from '../util/dates.js';
import { purgeExpiredSql } from '../warehouse/state-sql.js';

/**
 * Deletes identifiable raw data past its retention (LGPD: kept no longer than needed): landed
 * input files and run manifests older than `landed_days` (by when they were landed), quarantined
 * events of days older than `quarantine_days` (undated ones: landed by a run committed longer ago
 * than that), and staged events and items (user_pseudo_id) of
 * days older than `staged_days`. Runs while the run holds the warehouse.
 */
export async function purgeExpired(
  warehouse: Warehouse,
  { landingDir, pagesDir }: { landingDir?: string | undefined; pagesDir?: string | undefined },
  retention: { landed_days: number; quarantine_days: number; staged_days: number },
  now: Date,
  timeZone: string,
): Promise<{ files: number }> {
  let files = 0;
  if (landingDir) {
    const cutoff = now.getTime() - retention.landed_days * 86_400_000;
    for (const folder of ['objects', 'runs']) {
      const dir = join(landingDir, folder);
      for (const name of await readdir(dir).catch(() => [] as string[])) {
        const info = await stat(join(dir, name)).catch(() => undefined);
        if (info?.isFile() && info.mtimeMs < cutoff) {
          await rm(join(dir, name), { force: true });
          files++;
        }
      }
    }
  }
  const today = localDate(now, timeZone);
  // The Data API's pages (a run of that source passes where they land locally).
  if (pagesDir) files += await purgeLandedPages(pagesDir, addDays(today, -retention.landed_days));
  // Pages loaded into BigQuery (ga4_api_pages) go too; the bucket's lifecycle deletes the objects.
  const pagesInWarehouse = Boolean(pagesDir) && readsApiPages(warehouse) && warehouse.landedPages === 'gcs';
  const cutoffs = {
    pagesBefore: pagesInWarehouse ? addDays(today, -retention.landed_days) : undefined,
    quarantinedBefore: addDays(today, -retention.quarantine_days),
    quarantinedLandedBefore: new Date(now.getTime() - retention.quarantine_days * 86_400_000),
    // Nothing reads a past day's staged rows again: a re-run of that day stages its input anew.
    stagedBefore: addDays(today, -retention.staged_days),
  };
  for (const sql of purgeExpiredSql(warehouse.dialect, cutoffs)) await warehouse.execute(sql);
  return { files };
}

/**
 * The Data API's landed pages, `<pagesDir>/<property>/<date>/…`: a report date's folder goes once
 * the date is older than the cutoff (the pages are aggregates, but raw: kept as long as landed files).
 */
async function purgeLandedPages(pagesDir: string, cutoff: string): Promise<number> {
  let purged = 0;
  for (const property of await readdir(pagesDir).catch(() => [] as string[])) {
    for (const date of await readdir(join(pagesDir, property)).catch(() => [] as string[])) {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || date >= cutoff) continue;
      await rm(join(pagesDir, property, date), { recursive: true, force: true });
      purged++;
    }
  }
  return purged;
}
