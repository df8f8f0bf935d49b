import { RECOVERY_REACH, RECOVERY_WINDOW_MICROS, RECOVERY_WINDOWS_HOURS } from '../contract/tables.js';
import { addDays } from '../util/dates.js';
import type { Dialect, MaterializationDialect } from '../warehouse/dialect.js';
import type { Row } from '../warehouse/warehouse.js';

/**
 * Recovery rates of cart dates (issue 22, item 3), for report.html, the dashboard and the anomaly
 * check alike. The contract's rule: the carts of date D recovered within N hours are the
 * `cart_recoveries` rows with `cart_date` = D and `hours_to_recovery` ≤ N, over the files of every
 * date, against D's abandoned carts (`cart_funnel_daily.abandoned_carts`, which counts the rows of
 * `abandoned_carts` for D). A window is shown only once it has closed in the data (`windowClosesOn`);
 * before that it is "still open". Rates are computed here from exact counts with the contract's
 * rounding, so the three places cannot disagree whichever warehouse they read.
 */

const DAY_MICROS = 86_400_000_000;

/**
 * Dates between the end of a cart date plus a window and the last date a purchase within it can be
 * published on: Cleaning 2's one-day tolerance, once for the cart's date and once for the
 * purchase's. The contract's reach (16 dates after a cart date, for its 14 days) is the same rule.
 */
export const RECOVERY_DATE_SLACK = RECOVERY_REACH.after - RECOVERY_WINDOW_MICROS / DAY_MICROS;

/**
 * The date from which the window of `hours` of `cartDate`'s carts has fully elapsed in the data:
 * every purchase that can recover one of them within the window is on that date or before it.
 */
export function windowClosesOn(cartDate: string, hours: number): string {
  return addDays(cartDate, Math.ceil(hours / 24) + RECOVERY_DATE_SLACK);
}

/** Whether the data up to `latest` (the latest published date; null: none) holds the whole window. */
export function windowClosed(cartDate: string, hours: number, latest: string | null): boolean {
  return latest !== null && windowClosesOn(cartDate, hours) <= latest;
}

/** The cart date whose window of `hours` the publication of `date` closes. */
export function cartDateClosedBy(date: string, hours: number): string {
  return addDays(date, -(Math.ceil(hours / 24) + RECOVERY_DATE_SLACK));
}

/**
 * A relation of recoveries counted per (date, cart_date, window_hours, same_item): `window_hours`
 * is the smallest of the shown windows that holds the recovery, `recoveries` the rows and `value`
 * their carts' value. Plain SQL DuckDB and BigQuery read alike: the dashboard copies it (no
 * cart-level row leaves the warehouse) and the warehouse queries read it as a subquery.
 */
export function recoveryWindowsSelect(qualified: string, where = ''): string {
  const window = `CASE ${RECOVERY_WINDOWS_HOURS.map((hours) => `WHEN hours_to_recovery <= ${hours} THEN ${hours}`).join(' ')} END`;
  return (
    `SELECT date, cart_date, ${window} AS window_hours, same_item, COUNT(*) AS recoveries, SUM(cart_value) AS value ` +
    `FROM ${qualified}${where ? ` ${where}` : ''} GROUP BY date, cart_date, window_hours, same_item`
  );
}

/** Where the recoveries are read from: the warehouse's `cart_recoveries`, or a copy of `recoveryWindowsSelect`. */
export type RecoverySource = { warehouse: true } | { copy: string };

/**
 * The SQL of the cart dates' recovery counts as of `latest` (pure: the ZetaSQL test analyzes it as
 * BigQuery receives it). One row per published cart date of `cartDates`, as published text:
 * `cart_date`, `abandoned_carts`, `within_<N>` for each window, `recovered`, `recovered_value`,
 * `same_item`. Recoveries published after `latest` are left out, so a day's report shows the data
 * as of its date. On the warehouse, only the partitions of `cart_recoveries` that can hold the cart
 * dates' recoveries are read (the contract's reach).
 */
export function recoveryCountsSql(dialect: Dialect & MaterializationDialect, cartDates: readonly string[], latest: string, source: RecoverySource = { warehouse: true }): string {
  const sorted = [...cartDates].sort();
  const reachEnd = addDays(sorted.at(-1)!, RECOVERY_REACH.after);
  const upTo = reachEnd < latest ? reachEnd : latest;
  const windows =
    'warehouse' in source
      ? `(${recoveryWindowsSelect(
          `${dialect.tableName('cart_recoveries', false)}`,
          `WHERE date BETWEEN ${dialect.dateLiteral(addDays(sorted[0]!, -RECOVERY_REACH.before))} AND ${dialect.dateLiteral(upTo)} AND cart_date IN ${dialect.dateList(sorted)}`,
        )})`
      : source.copy;
  const count = (condition: string) => `SUM(CASE WHEN ${condition} THEN w.recoveries ELSE 0 END)`;
  const integer = (expression: string) => dialect.csvText('integer', `COALESCE(${expression}, 0)`);
  return (
    `SELECT ${dialect.csvText('date', 'f.date')} AS cart_date, ${integer('f.abandoned_carts')} AS abandoned_carts, ` +
    RECOVERY_WINDOWS_HOURS.map((hours) => `${integer(`r.within_${hours}`)} AS within_${hours}, `).join('') +
    `${integer('r.recovered')} AS recovered, ${dialect.csvText('money', dialect.money('COALESCE(r.recovered_value, 0)'))} AS recovered_value, ${integer('r.same_item')} AS same_item ` +
    `FROM ${dialect.tableName('cart_funnel_daily', false)} AS f LEFT JOIN (` +
    `SELECT w.cart_date, ${RECOVERY_WINDOWS_HOURS.map((hours) => `${count(`w.window_hours <= ${hours}`)} AS within_${hours}, `).join('')}` +
    `SUM(w.recoveries) AS recovered, SUM(w.value) AS recovered_value, ${count('w.same_item')} AS same_item ` +
    `FROM ${windows} AS w WHERE w.cart_date IN ${dialect.dateList(sorted)} AND w.date <= ${dialect.dateLiteral(latest)} GROUP BY w.cart_date` +
    `) AS r ON r.cart_date = f.date WHERE f.date IN ${dialect.dateList(sorted)} ORDER BY 1`
  );
}

/** One window of a cart date (or of a range of them). */
export interface RecoveryWindow {
  hours: number;
  /** false: the window has not elapsed in the data (for a range: for none of its cart dates). */
  closed: boolean;
  /** Carts recovered within the window, of the cart dates whose window closed; null while open. */
  recovered: number | null;
  /** recovered / abandoned carts of those dates, 4 decimals as published; null while open or with no cart. */
  rate: string | null;
  /** For a range: how many of its cart dates (with a published row) the window has closed for. */
  cart_dates_closed: number;
}

/** The recovery of a cart date, or of a range of cart dates. */
export interface Recovery {
  /** The cart date; for a range, its first and last. */
  cart_date: string;
  cart_date_to?: string;
  /** How many published cart dates it covers (1 for a cart date). */
  cart_dates: number;
  abandoned_carts: number;
  windows: RecoveryWindow[];
  /** Carts recovered so far (within 14 days, as of the data), their value, and how many bought an item of the cart. */
  recovered: number;
  recovered_value: string;
  same_item: number;
  /** same_item / recovered, 4 decimals; null when nothing was recovered. */
  same_item_share: string | null;
  /** false while the 14-day window is open for a cart date: value and share are so far. */
  complete: boolean;
}

/** Reads the query's rows into each cart date's recovery as of `latest`. */
export function recoveriesByCartDate(rows: readonly Row[], latest: string | null): Recovery[] {
  return rows.map((row) => {
    const cartDate = String(row.cart_date);
    const abandoned = Number(row.abandoned_carts);
    const recovered = Number(row.recovered);
    const same = Number(row.same_item);
    return {
      cart_date: cartDate,
      cart_dates: 1,
      abandoned_carts: abandoned,
      windows: RECOVERY_WINDOWS_HOURS.map((hours) => {
        const closed = windowClosed(cartDate, hours, latest);
        const within = Number(row[`within_${hours}`]);
        return { hours, closed, recovered: closed ? within : null, rate: closed ? rateText(within, abandoned) : null, cart_dates_closed: closed ? 1 : 0 };
      }),
      recovered,
      recovered_value: String(row.recovered_value),
      same_item: same,
      same_item_share: rateText(same, recovered),
      complete: windowClosed(cartDate, RECOVERY_WINDOWS_HOURS.at(-1)!, latest),
    };
  });
}

/**
 * A range of cart dates as one: each window over the cart dates it has closed for (their
 * recoveries against their abandoned carts), still open when it has closed for none.
 */
export function recoveryOfRange(days: readonly Recovery[], range: { from: string; to: string }): Recovery {
  const cents = days.reduce((total, d) => total + BigInt(d.recovered_value.replace('.', '')), 0n);
  const recovered = days.reduce((total, d) => total + d.recovered, 0);
  const same = days.reduce((total, d) => total + d.same_item, 0);
  return {
    cart_date: range.from,
    cart_date_to: range.to,
    cart_dates: days.length,
    abandoned_carts: days.reduce((total, d) => total + d.abandoned_carts, 0),
    windows: RECOVERY_WINDOWS_HOURS.map((hours, i) => {
      const closed = days.filter((d) => d.windows[i]!.closed);
      const within = closed.reduce((total, d) => total + d.windows[i]!.recovered!, 0);
      const carts = closed.reduce((total, d) => total + d.abandoned_carts, 0);
      return { hours, closed: closed.length > 0, recovered: closed.length > 0 ? within : null, rate: closed.length > 0 ? rateText(within, carts) : null, cart_dates_closed: closed.length };
    }),
    recovered,
    recovered_value: centsText(cents),
    same_item: same,
    same_item_share: rateText(same, recovered),
    complete: days.every((d) => d.complete),
  };
}

/** numerator / denominator rounded half up to 4 decimals, as the contract writes a rate; null for a denominator of 0. */
export function rateText(numerator: number, denominator: number): string | null {
  if (denominator === 0) return null;
  const n = BigInt(numerator);
  const d = BigInt(denominator);
  const tenThousandths = (n * 20000n + d) / (2n * d);
  return `${tenThousandths / 10000n}.${String(tenThousandths % 10000n).padStart(4, '0')}`;
}

function centsText(cents: bigint): string {
  const sign = cents < 0n ? '-' : '';
  const abs = cents < 0n ? -cents : cents;
  return `${sign}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
}

/** The cart dates report.html shows for a date: the 16 before it, oldest first (the oldest has every window closed). */
export function reportCartDates(date: string): string[] {
  const span = Math.ceil(RECOVERY_WINDOWS_HOURS.at(-1)! / 24) + RECOVERY_DATE_SLACK;
  return Array.from({ length: span }, (_, i) => addDays(date, i - span));
}
