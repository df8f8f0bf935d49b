import type { DailyReportBuilder, DailyReportOptions } from './daily-report.js';
import { BASE_STYLE, barsSvg, escapeHtml, Formats, tilesHtml, type Row, type Tile } from './render.js';

/** The tiles of a Data API day or range: GA4's own counts (events and units, not sessions with a cart). */
export const API_TILES = [
  ['sessions', 'sessions', 'integer'],
  ['add_to_carts', 'addToCartEvents', 'integer'],
  ['checkouts', 'checkouts', 'integer'],
  ['purchases', 'purchases', 'integer'],
  ['revenue', 'revenue', 'money'],
  ['item_cart_to_purchase', 'itemCartToPurchase', 'rate'],
] as const satisfies readonly Tile[];

/**
 * The daily report.html of the GA4 Data API source, from its published tables
 * (`ga4_api_funnel_daily`, `ga4_api_items_daily`): the day's totals, its funnel of events and the
 * items most added to carts. Only additive metrics are summed (never totalPurchasers); the units'
 * cart-to-purchase rate is recomputed from the sums. Abandoned carts need the events: not here.
 */
export const apiDailyReport: DailyReportBuilder = async (warehouse, date, options) => {
  const { dialect } = warehouse;
  const at = dialect.dateLiteral(date);
  const funnelTable = dialect.tableName('ga4_api_funnel_daily', false);
  const itemsTable = dialect.tableName('ga4_api_items_daily', false);
  // Money and rates as the CSV writes them (the tiles' data-value), whatever the warehouse's decimal type prints.
  const [totals] = await warehouse.query(`
    SELECT f.sessions, f.add_to_carts, f.checkouts, f.purchases, f.revenue, i.units_added, i.units_purchased, i.item_cart_to_purchase
    FROM (SELECT COALESCE(SUM(sessions), 0) AS sessions, COALESCE(SUM(add_to_carts), 0) AS add_to_carts, COALESCE(SUM(checkouts), 0) AS checkouts,
                 COALESCE(SUM(ecommerce_purchases), 0) AS purchases, ${dialect.csvText('money', dialect.money('COALESCE(SUM(purchase_revenue), 0)'))} AS revenue
          FROM ${funnelTable} WHERE date = ${at}) AS f
    CROSS JOIN (SELECT COALESCE(SUM(items_added_to_cart), 0) AS units_added, COALESCE(SUM(items_purchased), 0) AS units_purchased,
                       ${dialect.csvText('rate', dialect.rate('COALESCE(SUM(items_purchased), 0)', 'COALESCE(SUM(items_added_to_cart), 0)'))} AS item_cart_to_purchase
                FROM ${itemsTable} WHERE date = ${at}) AS i`);
  const top = await warehouse.query(`
    SELECT item_id, item_name, item_category, items_added_to_cart, items_purchased, cart_to_purchase_rate
    FROM ${itemsTable} WHERE date = ${at} AND items_added_to_cart > 0
    ORDER BY items_added_to_cart DESC, item_id LIMIT ${Math.trunc(options.topItems ?? 10)}`);
  return { html: renderApiDailyReport(date, totals ?? {}, top, options), funnel: null };
};

export function renderApiDailyReport(date: string, totals: Row, items: Row[], options: DailyReportOptions): string {
  const formats = new Formats(options);
  const { text } = formats;
  const funnel = barsSvg(
    [
      [text.sessions, Number(totals.sessions ?? 0)],
      [text.addToCartEvents, Number(totals.add_to_carts ?? 0)],
      [text.checkouts, Number(totals.checkouts ?? 0)],
      [text.purchases, Number(totals.purchases ?? 0)],
    ],
    formats,
  );
  const rows = items
    .map(
      (item) =>
        `<tr data-item-id="${escapeHtml(String(item.item_id))}"><td>${escapeHtml(String(item.item_name ?? item.item_id))}</td><td>${escapeHtml(String(item.item_category ?? ''))}</td>` +
        `<td class="num">${formats.integer(item.items_added_to_cart)}</td><td class="num">${formats.integer(item.items_purchased)}</td><td class="num">${formats.rate(item.cart_to_purchase_rate)}</td></tr>`,
    )
    .join('\n');
  const table =
    items.length === 0
      ? `<p>${text.noAddedItems}</p>`
      : `<table class="top-items"><thead><tr><th>${text.item}</th><th>${text.category}</th><th class="num">${text.unitsAdded}</th><th class="num">${text.unitsPurchased}</th><th class="num">${text.cartToPurchase}</th></tr></thead><tbody>\n${rows}\n</tbody></table>`;
  return `<!doctype html>
<html lang="${options.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${text.apiTitle} ${date}</title>
<style>
${BASE_STYLE}
</style>
</head>
<body>
<h1>${text.apiTitle} — ${date}</h1>
<p class="note">${text.apiNote}</p>
<section class="tiles">
${tilesHtml(totals, formats, undefined, API_TILES)}
</section>
<h2>${text.funnel}</h2>
${funnel}
<h2>${text.topAddedItems}</h2>
${table}
</body>
</html>
`;
}

