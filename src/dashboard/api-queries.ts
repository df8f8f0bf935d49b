import type { Row } from '../warehouse/warehouse.js';
import { dialect, notSet, previousPeriod, rankedBreakdownSql, within, type DashboardData, type DateRange } from './queries.js';
import type { Query } from './snapshot.js';

/**
 * The GA4 Data API source's numbers for a date range, from the copy of `ga4_api_funnel_daily`
 * and `ga4_api_items_daily`. As for the events: counts and money are sums of the published days,
 * and the one rate (units purchased / units added to cart) is computed again from those sums
 * with the contract's rounding. Only additive metrics are summed: never total_purchasers (it is
 * not even copied).
 */
export interface ApiDashboardData {
  range: DateRange;
  previous: DateRange;
  available: DashboardData['available'];
  /** days, sessions, add_to_carts, checkouts, purchases, revenue, units_added, units_purchased, item_cart_to_purchase. */
  totals: Row;
  previousTotals: Row;
  /** One row per published day of the range: date, sessions, revenue. */
  trend: Row[];
  /** The ten items with the most units added to cart, with their cart-to-purchase rate over the range. */
  topItems: Row[];
  /** Sessions and revenue by dimension: the top rows by sessions, the rest as one "(other)" row (key null). */
  breakdowns: { device: Row[]; country: Row[]; sourceMedium: Row[] };
  /** One row per day of the range, published or not, with its run status. */
  days: Row[];
}

/** The days the Data API published: a day is in either table (a day with no item has funnel rows, and the reverse). */
export const API_PUBLISHED_DATES = '(SELECT date FROM ga4_api_funnel_daily UNION SELECT date FROM ga4_api_items_daily)';

export async function apiDashboardData(query: Query, range: DateRange, available: DashboardData['available']): Promise<ApiDashboardData> {
  const previous = previousPeriod(range);
  // One connection runs one statement at a time: in sequence, on the request's transaction.
  const totals = await query(totalsSql(range));
  const previousTotals = await query(totalsSql(previous));
  const trend = await query(`
SELECT strftime(date, '%Y-%m-%d') AS date, sum(sessions)::BIGINT AS sessions, sum(purchase_revenue)::DECIMAL(38,2) AS revenue
FROM ga4_api_funnel_daily WHERE ${within(range)} GROUP BY date ORDER BY date`);
  const topItems = await query(topItemsSql(range));
  const device = await query(breakdownSql(range, notSet('device_category')));
  const country = await query(breakdownSql(range, notSet('country')));
  const sourceMedium = await query(breakdownSql(range, notSet('session_source_medium')));
  const days = await query(daysSql(range));
  return { range, previous, available, totals: totals[0]!, previousTotals: previousTotals[0]!, trend, topItems, breakdowns: { device, country, sourceMedium }, days };
}

function totalsSql(range: DateRange): string {
  const sum = (column: string) => `coalesce(sum(${column}), 0)`;
  return `
SELECT (SELECT count(*) FROM ${API_PUBLISHED_DATES} WHERE ${within(range)})::BIGINT AS days,
  f.sessions, f.add_to_carts, f.checkouts, f.purchases, f.revenue, i.units_added, i.units_purchased, i.item_cart_to_purchase
FROM (SELECT ${sum('sessions')}::BIGINT AS sessions, ${sum('add_to_carts')}::BIGINT AS add_to_carts, ${sum('checkouts')}::BIGINT AS checkouts,
        ${sum('ecommerce_purchases')}::BIGINT AS purchases, ${sum('purchase_revenue')}::DECIMAL(38,2) AS revenue
      FROM ga4_api_funnel_daily WHERE ${within(range)}) AS f
CROSS JOIN (SELECT ${sum('items_added_to_cart')}::BIGINT AS units_added, ${sum('items_purchased')}::BIGINT AS units_purchased,
        ${dialect.rate(sum('items_purchased'), sum('items_added_to_cart'))} AS item_cart_to_purchase
      FROM ga4_api_items_daily WHERE ${within(range)}) AS i`;
}

function topItemsSql(range: DateRange): string {
  // An item's name and category: those of its latest day in the range.
  return `
SELECT item_id, arg_max(item_name, date) AS item_name, arg_max(item_category, date) AS item_category,
  sum(items_added_to_cart)::BIGINT AS items_added_to_cart, sum(items_purchased)::BIGINT AS items_purchased,
  sum(item_revenue)::DECIMAL(38,2) AS item_revenue,
  ${dialect.rate('sum(items_purchased)', 'sum(items_added_to_cart)')} AS cart_to_purchase_rate
FROM ga4_api_items_daily WHERE ${within(range)}
GROUP BY item_id HAVING sum(items_added_to_cart) > 0
ORDER BY items_added_to_cart DESC, item_id LIMIT 10`;
}

/** Sessions and revenue by one dimension, ranked by sessions: the top rows, the rest as one "(other)" row. */
function breakdownSql(range: DateRange, dimension: string): string {
  return rankedBreakdownSql('ga4_api_funnel_daily', range, dimension, { name: 'sessions', column: 'sessions', type: 'BIGINT' }, { name: 'revenue', column: 'purchase_revenue', type: 'DECIMAL(38,2)' });
}

/** Every day of the range, with the source's run state and whether it was published. */
function daysSql(range: DateRange): string {
  return `
SELECT strftime(d.date, '%Y-%m-%d') AS date, s.status, s.final, s.last_error, p.date IS NOT NULL AS published
FROM (SELECT CAST(unnest(generate_series(${dialect.dateLiteral(range.from)}, ${dialect.dateLiteral(range.to)}, INTERVAL 1 DAY)) AS DATE) AS date) d
LEFT JOIN run_state s ON s.date = d.date
LEFT JOIN ${API_PUBLISHED_DATES} p ON p.date = d.date
ORDER BY d.date`;
}
