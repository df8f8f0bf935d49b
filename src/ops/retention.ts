import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Warehouse } from '../warehouse/warehouse.js';
import { addDays, localDate } from '../pipeline/due-dates.js';

/**
 * Deletes identifiable raw data past its retention (LGPD: kept no longer than needed): landed
 * input files and run manifests older than `landedDays` (by when they were landed), and
 * quarantined events of days older than `quarantineDays`. Runs while the run holds the warehouse.
 */
export async function purgeExpired(
  warehouse: Warehouse,
  landingDir: string | undefined,
  retention: { landed_days: number; quarantine_days: number },
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
  const oldest = addDays(localDate(now, timeZone), -retention.quarantine_days);
  await warehouse.execute(`DELETE FROM ${dialect.tableName('quarantined_events', false)} WHERE event_date < ${dialect.dateLiteral(oldest)}`);
  return { files };
}
