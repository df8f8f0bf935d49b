import { API_TILES } from '../reports/api-report.js';
import { barsSvg, escapeHtml, Formats, type Row } from '../reports/render.js';
import type { ApiDashboardData } from './api-queries.js';
import { breakdownsHtml, daysTable, pageHtml, tilesAgainstPrevious, trendSvg, type BreakdownSpec, type PageContext, type TrendSpec } from './page.js';

/**
 * Sessions as bars, revenue as a line: both additive, so each day's mark is exactly that day's
 * CSV sum (a daily rate of GA4's numbers would move with thresholding); traffic against its
 * outcome in money, as the events' trend sets volume against its outcome.
 */
const API_TREND: TrendSpec = {
  bars: { column: 'sessions', className: 'sessions-bar', attribute: 'data-sessions', format: 'integer', floor: 1 },
  line: { column: 'revenue', className: 'revenue-point', attribute: 'data-revenue', format: 'money', floor: 1, lineClass: 'revenue-line' },
};

const API_BREAKDOWN: BreakdownSpec = { title: 'apiBreakdown', count: { column: 'sessions', attribute: 'data-sessions' }, money: { column: 'revenue', attribute: 'data-revenue' } };

/** The GA4 Data API source's dashboard: the same page as the events', with that source's numbers. */
export function renderApiDashboard(data: ApiDashboardData, context: PageContext): string {
  const formats = new Formats(context.format);
  const { text } = formats;
  const body =
    data.available.last === null
      ? `<p class="empty">${escapeHtml(text.noData)}</p>`
      : `<p class="note">${text.apiNote}</p>
${tilesAgainstPrevious(data, formats, API_TILES)}
<h2>${text.apiTrend}</h2>
${trendSvg(data.trend, data.range, formats, API_TREND)}
<h2>${text.funnel}</h2>
${barsSvg(
  [
    [text.sessions, Number(data.totals.sessions ?? 0)],
    [text.addToCartEvents, Number(data.totals.add_to_carts ?? 0)],
    [text.checkouts, Number(data.totals.checkouts ?? 0)],
    [text.purchases, Number(data.totals.purchases ?? 0)],
  ],
  formats,
)}
<h2>${text.topAddedItems}</h2>
${topAddedItemsHtml(data.topItems, formats)}
${breakdownsHtml(data.breakdowns, formats, API_BREAKDOWN)}
<h2>${text.apiStatus}</h2>
${daysTable(data.days, formats, context.links, false)}`;
  return pageHtml(text.apiDashboard, data, context, formats, body);
}

/** The items most added to carts over the range, with their units, revenue and cart-to-purchase rate. */
function topAddedItemsHtml(items: Row[], formats: Formats): string {
  const { text } = formats;
  if (items.length === 0) return `<p>${text.noAddedItemsInRange}</p>`;
  const rows = items
    .map(
      (item) =>
        `<tr data-item-id="${escapeHtml(String(item.item_id))}" data-added="${escapeHtml(String(item.items_added_to_cart))}" data-rate="${escapeHtml(String(item.cart_to_purchase_rate ?? ''))}">` +
        `<td>${escapeHtml(String(item.item_name ?? item.item_id))}</td><td>${escapeHtml(String(item.item_category ?? ''))}</td>` +
        `<td class="num">${formats.integer(item.items_added_to_cart)}</td><td class="num">${formats.integer(item.items_purchased)}</td>` +
        `<td class="num">${escapeHtml(formats.money(item.item_revenue))}</td><td class="num">${formats.rate(item.cart_to_purchase_rate)}</td></tr>`,
    )
    .join('\n');
  return `<table class="top-items"><thead><tr><th>${text.item}</th><th>${text.category}</th><th class="num">${text.unitsAdded}</th><th class="num">${text.unitsPurchased}</th><th class="num">${text.itemRevenue}</th><th class="num">${text.cartToPurchase}</th></tr></thead><tbody>\n${rows}\n</tbody></table>`;
}
