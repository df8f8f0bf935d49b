import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Warehouse } from '../warehouse/warehouse.js';
import { addDays, localDate } from '../pipeline/due-dates.js';

/**
 * Deletes identifiable raw data past its retention (LGPD: kept no longer than needed): landed
 * input files and run manifests older than `landed_days` (by when they were landed), quarantined
 * events of days older than `quarantine_days` (undated ones: landed by a run committed longer ago
 * than that), and staged events and items (user_pseudo_id) of
 * days older than `staged_days`. Runs while the run holds the warehouse.
 */
export async function purgeExpired(
  warehouse: Warehouse,
  landingDir: string | undefined,
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
  const { dialect } = warehouse;
  const today = localDate(now, timeZone);
  const before = (days: number) => dialect.dateLiteral(addDays(today, -days));
  // A line without a date (invalid JSON, no event_date) goes with the run that landed it: NULL < cutoff never matches.
  const landedBefore = `TIMESTAMP '${new Date(now.getTime() - retention.quarantine_days * 86_400_000).toISOString().replace('T', ' ').replace('Z', '')}'`;
  await warehouse.execute(
    `DELETE FROM ${dialect.tableName('quarantined_events', false)} WHERE event_date < ${before(retention.quarantine_days)} OR (event_date IS NULL AND run_id IN (SELECT run_id FROM ${dialect.tableName('runs', false)} WHERE committed_at < ${landedBefore}))`,
  );
  // Nothing reads a past day's staged rows again: a re-run of that day stages its input anew.
  for (const table of ['stg_events', 'stg_event_items']) {
    await warehouse.execute(`DELETE FROM ${dialect.tableName(table, false)} WHERE event_date < ${before(retention.staged_days)}`);
  }
  return { files };
}
