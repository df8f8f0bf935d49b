import type { Warehouse } from '../warehouse/warehouse.js';
import { exportQuery } from '../exports/export-query.js';
import { PUBLISHED_TABLES } from '../exports/published-tables.js';

/**
 * The self-contained daily report (issue 6, item 4): one HTML file per published date, beside
 * the CSV files, with the day's tiles, funnel and top abandoned items. Everything is inlined
 * (styles, SVG charts, no scripts, no fonts, no images) so it opens with no network.
 * Its numbers come from the same queries as the CSVs, so the two cannot disagree.
 */

export type ReportLocale = 'en' | 'pt-BR';

export interface DailyReportOptions {
  locale: ReportLocale;
  /** ISO 4217, the property's currency. */
  currency: string;
  /** How many items the "top abandoned items" table lists. */
  topItems?: number;
}

/** A published row (cart_funnel_daily or cart_items_daily) as the export query returns it. */
export type Row = Record<string, unknown>;

export const REPORT_FILE = 'report.html';

/** Where a date's report lives in the bucket: `report/dt=<date>/report.html`. */
export function reportPath(date: string): string {
  return `report/dt=${date}/${REPORT_FILE}`;
}

const LABELS = {
  en: {
    title: 'Cart report',
    sessions: 'Sessions',
    sessionsWithCart: 'Sessions with a cart',
    abandonmentRate: 'Cart abandonment rate',
    abandonedValue: 'Abandoned value',
    purchases: 'Purchases',
    revenue: 'Revenue',
    funnel: 'Funnel',
    viewItem: 'View item',
    addToCart: 'Add to cart',
    checkout: 'Checkout',
    purchase: 'Purchase',
    topItems: 'Items with the most abandoned value',
    item: 'Item',
    category: 'Category',
    abandonedUnits: 'Abandoned units',
    cartToPurchase: 'Cart-to-purchase rate',
    noItems: 'No abandoned items this day.',
    ofSessions: 'of sessions',
  },
  'pt-BR': {
    title: 'Relatório de carrinhos',
    sessions: 'Sessões',
    sessionsWithCart: 'Sessões com carrinho',
    abandonmentRate: 'Taxa de abandono de carrinho',
    abandonedValue: 'Valor abandonado',
    purchases: 'Compras',
    revenue: 'Receita',
    funnel: 'Funil',
    viewItem: 'Visualizou item',
    addToCart: 'Adicionou ao carrinho',
    checkout: 'Checkout',
    purchase: 'Compra',
    topItems: 'Itens com maior valor abandonado',
    item: 'Item',
    category: 'Categoria',
    abandonedUnits: 'Unidades abandonadas',
    cartToPurchase: 'Taxa carrinho→compra',
    noItems: 'Nenhum item abandonado neste dia.',
    ofSessions: 'das sessões',
  },
} as const satisfies Record<ReportLocale, Record<string, string>>;

/** Renders the report from the day's published funnel row and its items (the export query). */
export async function buildDailyReport(warehouse: Warehouse, date: string, funnel: Row, options: DailyReportOptions): Promise<string> {
  const itemsTable = PUBLISHED_TABLES.find((t) => t.name === 'cart_items_daily')!;
  const items = await warehouse.query(exportQuery(warehouse.dialect, itemsTable, date));
  return renderDailyReport(date, funnel, items, options);
}

export function renderDailyReport(date: string, funnel: Row, items: Row[], options: DailyReportOptions): string {
  const text = LABELS[options.locale];
  const integer = new Intl.NumberFormat(options.locale);
  const money = new Intl.NumberFormat(options.locale, { style: 'currency', currency: options.currency });
  const percent = new Intl.NumberFormat(options.locale, { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 });
  // Empty rates (no add_to_cart) stay visibly empty rather than becoming 0 %.
  const rate = (value: unknown) => (isBlank(value) ? '—' : percent.format(Number(value)));

  const tiles: [string, string, unknown, string][] = [
    ['sessions', text.sessions, funnel.sessions, integer.format(Number(funnel.sessions))],
    ['sessions_with_add_to_cart', text.sessionsWithCart, funnel.sessions_with_add_to_cart, integer.format(Number(funnel.sessions_with_add_to_cart))],
    ['cart_abandonment_rate', text.abandonmentRate, funnel.cart_abandonment_rate, rate(funnel.cart_abandonment_rate)],
    ['abandoned_value', text.abandonedValue, funnel.abandoned_value, money.format(Number(funnel.abandoned_value))],
    ['purchases', text.purchases, funnel.purchases, integer.format(Number(funnel.purchases))],
    ['revenue', text.revenue, funnel.revenue, money.format(Number(funnel.revenue))],
  ];
  const steps: [string, number][] = [
    [text.sessions, Number(funnel.sessions)],
    [text.viewItem, Number(funnel.sessions_with_view_item)],
    [text.addToCart, Number(funnel.sessions_with_add_to_cart)],
    [text.checkout, Number(funnel.sessions_with_begin_checkout)],
    [text.purchase, Number(funnel.sessions_with_purchase)],
  ];
  const top = items
    .filter((item) => Number(item.abandoned_value) > 0)
    .sort((a, b) => Number(b.abandoned_value) - Number(a.abandoned_value) || String(a.item_id).localeCompare(String(b.item_id)))
    .slice(0, options.topItems ?? 10);

  const tileHtml = tiles
    .map(([key, label, raw, shown]) => `<div class="tile" data-tile="${key}" data-value="${escapeHtml(isBlank(raw) ? '' : String(raw))}"><div class="label">${label}</div><div class="value">${escapeHtml(shown)}</div></div>`)
    .join('\n');
  const itemRows = top
    .map(
      (item) =>
        `<tr data-item-id="${escapeHtml(String(item.item_id))}"><td>${escapeHtml(String(item.item_name ?? item.item_id))}</td><td>${escapeHtml(String(item.item_category ?? ''))}</td>` +
        `<td class="num">${integer.format(Number(item.abandoned_units))}</td><td class="num">${money.format(Number(item.abandoned_value))}</td><td class="num">${rate(item.cart_to_purchase_rate)}</td></tr>`,
    )
    .join('\n');

  return `<!doctype html>
<html lang="${options.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${text.title} ${date}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1f2933; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(11rem, 1fr)); gap: 0.75rem; }
.tile { border: 1px solid #d9e2ec; border-radius: 6px; padding: 0.75rem; }
.tile .label { font-size: 0.8rem; color: #52606d; }
.tile .value { font-size: 1.5rem; font-weight: 600; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.3rem 0.5rem; border-bottom: 1px solid #e4e7eb; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
</style>
</head>
<body>
<h1>${text.title} — ${date}</h1>
<section class="tiles">
${tileHtml}
</section>
<h2>${text.funnel}</h2>
${funnelSvg(steps, integer, percent, text.ofSessions)}
<h2>${text.topItems}</h2>
${top.length === 0 ? `<p>${text.noItems}</p>` : `<table class="top-items"><thead><tr><th>${text.item}</th><th>${text.category}</th><th class="num">${text.abandonedUnits}</th><th class="num">${text.abandonedValue}</th><th class="num">${text.cartToPurchase}</th></tr></thead><tbody>\n${itemRows}\n</tbody></table>`}
</body>
</html>
`;
}

/** Horizontal bars, each step's width relative to sessions, drawn as inline SVG. */
function funnelSvg(steps: [string, number][], integer: Intl.NumberFormat, percent: Intl.NumberFormat, ofSessions: string): string {
  const barHeight = 28;
  const width = 640;
  const labelWidth = 190;
  const base = steps[0]![1] || 1;
  const bars = steps
    .map(([label, count], index) => {
      const y = index * (barHeight + 8);
      const barWidth = Math.max(1, Math.round(((width - labelWidth - 150) * count) / base));
      return (
        `<g data-step="${index}"><text x="0" y="${y + 19}" font-size="13">${escapeHtml(label)}</text>` +
        `<rect x="${labelWidth}" y="${y}" width="${barWidth}" height="${barHeight}" fill="#2f80ed"></rect>` +
        `<text x="${labelWidth + barWidth + 6}" y="${y + 19}" font-size="13">${integer.format(count)} (${percent.format(count / base)} ${ofSessions})</text></g>`
      );
    })
    .join('');
  return `<svg class="funnel" role="img" width="${width}" height="${steps.length * (barHeight + 8)}" viewBox="0 0 ${width} ${steps.length * (barHeight + 8)}" xmlns="http://www.w3.org/2000/svg">${bars}</svg>`;
}

function isBlank(value: unknown): boolean {
  return value === null || value === undefined || value === '';
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
