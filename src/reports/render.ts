/**
 * What the daily report.html and the dashboard draw alike: labels in the configured locale,
 * number formats, the tiles, the funnel and the top-items table. Everything is static HTML with
 * inline SVG, so both pages show their numbers with no script and no network.
 */

import { FUNNEL_TILES, metricKind, publishedColumn, publishedTable, type Localized } from '../contract/tables.js';
import { withControlPictures } from '../util/control-pictures.js';
import type { Recovery } from './recovery.js';

export type ReportLocale = 'en' | 'pt-BR';

export interface ReportFormatOptions {
  locale: ReportLocale;
  /** ISO 4217, the property's currency. */
  currency: string;
}

/** A published row (or a range's sum of them) as the queries return it. */
export type Row = Record<string, unknown>;

export const LABELS = {
  en: {
    title: 'Cart report',
    anomalies: 'Unusual days',
    anomalyNote: 'Beyond the anomaly thresholds against the median of the same weekday over the last 4 weeks; the run report names the segments and items that drove the change.',
    anomalyNotJudged: 'Not compared with the last 4 weeks',
    remarketing: 'Remarketing',
    remarketableCarts: 'Remarketable carts',
    remarketableValue: 'Remarketable value',
    remarketingNote: 'Abandoned carts not bought later that day, with consent for advertising (ads_storage granted): the ones an ad audience may hold.',
    adsConsent: 'Ads consent',
    consentGranted: 'granted',
    consentDenied: 'denied',
    consentUnset: 'not given',
    boughtLater: 'Bought later that day',
    dashboard: 'Cart dashboard',
    sessions: 'Sessions',
    abandonedValue: 'Abandoned value',
    abandonedCarts: 'Abandoned carts',
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
    noItemsInRange: 'No abandoned items in this period.',
    ofSessions: 'of sessions',
    from: 'From',
    to: 'To',
    apply: 'Apply',
    previous: 'previous period',
    vsPrevious: 'vs.',
    trend: 'Daily abandonment rate and abandoned value',
    breakdown: 'Abandoned carts by',
    device: 'Device',
    country: 'Country',
    sourceMedium: 'Source / medium',
    share: 'Share of value',
    other: '(other)',
    status: 'Run status and data quality',
    date: 'Date',
    state: 'Status',
    final: 'Final',
    quarantined: 'Quarantined lines',
    duplicates: 'Duplicate lines',
    files: 'Files',
    notRun: 'not run',
    yes: 'yes',
    no: 'no',
    noData: 'No published day yet: run `cartlens run` first.',
    publishedDays: 'days published',
    dataAsOf: 'Data as of',
    busy: 'a run is writing the warehouse; showing the last snapshot',
    stale: 'the warehouse could not be read just now; showing the last snapshot',
    complete: 'complete',
    provisional: 'provisional',
    failed: 'failed',
    deferred: 'deferred',
    publishing: 'publishing (unfinished)',
    apiTitle: 'Cart report (GA4 Data API)',
    addToCartEvents: 'Add-to-cart events',
    checkouts: 'Checkouts',
    unitsAdded: 'Units added to cart',
    unitsPurchased: 'Units purchased',
    itemRevenue: 'Item revenue',
    itemCartToPurchase: 'Units cart-to-purchase',
    topAddedItems: 'Items most added to carts',
    noAddedItems: 'No item was added to a cart this day.',
    apiNote: 'Numbers as the GA4 Data API reports them (sampling and thresholds may apply); abandoned carts need the GA4 export.',
    apiDashboard: 'Cart dashboard (GA4 Data API)',
    apiTrend: 'Daily sessions and revenue',
    apiBreakdown: 'Sessions and revenue by',
    noAddedItemsInRange: 'No item was added to a cart in this period.',
    apiStatus: 'Run status',
    recovery: 'Recovery of abandoned carts',
    recoveryNote: 'Of the carts abandoned on a date, the share their users bought within 1, 3, 7 and 14 days, in any session. A window is counted once the data holds every date a purchase within it can fall on; until then it is still open. Recovered value: the value of the carts bought within 14 days so far. Same item: the share of those purchases that held an item of the cart.',
    cartDate: 'Cart date',
    within: 'Within',
    day: 'day',
    days: 'days',
    stillOpen: 'still open',
    recoveredCarts: 'Recovered carts',
    recoveredValue: 'Recovered value',
    sameItem: 'Same item',
    soFar: 'so far',
    allCartDates: 'All cart dates',
    ofCartDates: 'of the cart dates',
    noCartDates: 'No published cart date in this period.',
    revised: 'revised',
    revisedTitle: 'Revised numbers',
    revisedBy: 'changed by run',
    revisedBefore: 'published before by run',
    revisedNote: 'This date was published before with other numbers. The latest revision is shown, values as the CSV files write them.',
    revisions: 'revisions',
    metric: 'Metric',
    before: 'Before',
    after: 'After',
    change: 'Change',
    rows: 'rows',
    rowsAdded: 'rows added',
    rowsRemoved: 'rows removed',
    rowsChanged: 'rows changed',
    intraday: 'provisional (intraday)',
    intradayNote: "Provisional: computed from GA4's intraday data (events_intraday), which GA4 writes through the day. These numbers will be replaced when GA4's daily export of this date arrives.",
  },
  'pt-BR': {
    title: 'Relatório de carrinhos',
    anomalies: 'Dias fora do comum',
    anomalyNote: 'Além dos limites de anomalia em relação à mediana do mesmo dia da semana nas últimas 4 semanas; o relatório da execução nomeia os segmentos e itens que explicam a mudança.',
    anomalyNotJudged: 'Não comparado com as últimas 4 semanas',
    remarketing: 'Remarketing',
    remarketableCarts: 'Carrinhos para remarketing',
    remarketableValue: 'Valor para remarketing',
    remarketingNote: 'Carrinhos abandonados não comprados depois no mesmo dia, com consentimento para publicidade (ads_storage concedido): os que um público de anúncios pode conter.',
    adsConsent: 'Consentimento de anúncios',
    consentGranted: 'concedido',
    consentDenied: 'negado',
    consentUnset: 'não informado',
    boughtLater: 'Comprados depois no mesmo dia',
    dashboard: 'Painel de carrinhos',
    sessions: 'Sessões',
    abandonedValue: 'Valor abandonado',
    abandonedCarts: 'Carrinhos abandonados',
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
    noItemsInRange: 'Nenhum item abandonado neste período.',
    ofSessions: 'das sessões',
    from: 'De',
    to: 'Até',
    apply: 'Aplicar',
    previous: 'período anterior',
    vsPrevious: 'vs.',
    trend: 'Taxa de abandono e valor abandonado por dia',
    breakdown: 'Carrinhos abandonados por',
    device: 'Dispositivo',
    country: 'País',
    sourceMedium: 'Origem / mídia',
    share: 'Parcela do valor',
    other: '(outros)',
    status: 'Status das execuções e qualidade dos dados',
    date: 'Data',
    state: 'Status',
    final: 'Final',
    quarantined: 'Linhas em quarentena',
    duplicates: 'Linhas duplicadas',
    files: 'Arquivos',
    notRun: 'não executado',
    yes: 'sim',
    no: 'não',
    noData: 'Nenhum dia publicado ainda: execute `cartlens run` primeiro.',
    publishedDays: 'dias publicados',
    dataAsOf: 'Dados de',
    busy: 'uma execução está gravando o warehouse; mostrando o último retrato',
    stale: 'o warehouse não pôde ser lido agora; mostrando o último retrato',
    complete: 'completo',
    provisional: 'provisório',
    failed: 'falhou',
    deferred: 'adiado',
    publishing: 'publicando (incompleto)',
    apiTitle: 'Relatório de carrinhos (GA4 Data API)',
    addToCartEvents: 'Eventos de adição ao carrinho',
    checkouts: 'Checkouts',
    unitsAdded: 'Unidades adicionadas ao carrinho',
    unitsPurchased: 'Unidades compradas',
    itemRevenue: 'Receita dos itens',
    itemCartToPurchase: 'Unidades carrinho→compra',
    topAddedItems: 'Itens mais adicionados aos carrinhos',
    noAddedItems: 'Nenhum item foi adicionado a um carrinho neste dia.',
    apiNote: 'Números como a GA4 Data API os informa (amostragem e limites podem se aplicar); carrinhos abandonados exigem o export do GA4.',
    apiDashboard: 'Painel de carrinhos (GA4 Data API)',
    apiTrend: 'Sessões e receita por dia',
    apiBreakdown: 'Sessões e receita por',
    noAddedItemsInRange: 'Nenhum item foi adicionado a um carrinho neste período.',
    apiStatus: 'Status das execuções',
    recovery: 'Recuperação de carrinhos abandonados',
    recoveryNote: 'Dos carrinhos abandonados em uma data, a parcela que seus usuários compraram em até 1, 3, 7 e 14 dias, em qualquer sessão. Uma janela é contada quando os dados incluem todas as datas em que uma compra dentro dela pode cair; até lá ela segue aberta. Valor recuperado: o valor dos carrinhos comprados em até 14 dias até agora. Mesmo item: a parcela dessas compras que incluiu um item do carrinho.',
    cartDate: 'Data do carrinho',
    within: 'Em até',
    day: 'dia',
    days: 'dias',
    stillOpen: 'ainda aberta',
    recoveredCarts: 'Carrinhos recuperados',
    recoveredValue: 'Valor recuperado',
    sameItem: 'Mesmo item',
    soFar: 'até agora',
    allCartDates: 'Todas as datas de carrinho',
    ofCartDates: 'das datas de carrinho',
    noCartDates: 'Nenhuma data de carrinho publicada neste período.',
    revised: 'revisado',
    revisedTitle: 'Números revisados',
    revisedBy: 'alterados pela execução',
    revisedBefore: 'publicados antes pela execução',
    revisedNote: 'Esta data foi publicada antes com outros números. A revisão mais recente é mostrada, com os valores como os arquivos CSV os escrevem.',
    revisions: 'revisões',
    metric: 'Métrica',
    before: 'Antes',
    after: 'Depois',
    change: 'Variação',
    rows: 'linhas',
    rowsAdded: 'linhas adicionadas',
    rowsRemoved: 'linhas removidas',
    rowsChanged: 'linhas alteradas',
    intraday: 'provisório (intraday)',
    intradayNote: 'Provisório: calculado a partir dos dados intraday do GA4 (events_intraday), que o GA4 grava ao longo do dia. Estes números serão substituídos quando chegar o export diário do GA4 desta data.',
  },
} as const satisfies Record<ReportLocale, Record<string, string>>;

export type Labels = (typeof LABELS)[ReportLocale];

/** The locale's formats; an empty rate (no add_to_cart) stays visibly empty rather than 0 %. */
export class Formats {
  readonly text: Labels;
  readonly integerFormat: Intl.NumberFormat;
  readonly moneyFormat: Intl.NumberFormat;
  readonly percentFormat: Intl.NumberFormat;
  /** A change of a rate, in percentage points. */
  readonly pointsFormat: Intl.NumberFormat;

  constructor(readonly options: ReportFormatOptions) {
    this.text = LABELS[options.locale];
    this.integerFormat = new Intl.NumberFormat(options.locale);
    this.moneyFormat = new Intl.NumberFormat(options.locale, { style: 'currency', currency: options.currency });
    this.percentFormat = new Intl.NumberFormat(options.locale, { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 });
    this.pointsFormat = new Intl.NumberFormat(options.locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  }

  integer = (value: unknown) => this.integerFormat.format(Number(value));
  money = (value: unknown) => this.moneyFormat.format(Number(value));
  rate = (value: unknown) => (isBlank(value) ? '—' : this.percentFormat.format(Number(value)));
}

/** How a tile's value is shown: the Formats method of its kind. */
export type TileFormat = 'integer' | 'rate' | 'money';

/** A tile: [key (a published column, or a query's column), label (of LABELS, or the contract's own), how the value is shown]. */
export type Tile = readonly [key: string, label: keyof Labels | Localized, format: TileFormat];

const FORMAT_OF_METRIC = { count: 'integer', money: 'money', rate: 'rate' } as const;

/** The funnel's tiles, as the contract lists them: each metric's label, shown as its kind is. */
export const TILES: readonly Tile[] = FUNNEL_TILES.map(({ column, label }) => [column, label, FORMAT_OF_METRIC[metricKind(publishedColumn(publishedTable('cart_funnel_daily'), column))]]);

/**
 * The tiles of a funnel row (a day's, or a range's sum). Each carries its raw published value in
 * `data-value`; with a `previous` row, also the change against it.
 */
export function tilesHtml(funnel: Row, formats: Formats, previous?: Row, tiles: readonly Tile[] = TILES): string {
  return tiles.map(([key, label, kind]) => {
    const raw = funnel[key];
    const change = previous ? changeHtml(raw, previous[key], kind, formats) : '';
    return (
      `<div class="tile" data-tile="${key}" data-value="${escapeHtml(isBlank(raw) ? '' : String(raw))}"${previous ? ` data-previous="${escapeHtml(isBlank(previous[key]) ? '' : String(previous[key]))}"` : ''}>` +
      `<div class="label">${typeof label === 'string' ? formats.text[label] : label[formats.options.locale]}</div><div class="value">${escapeHtml(formats[kind](raw))}</div>${change}</div>`
    );
  }).join('\n');
}

/** A rate changes in percentage points; counts and money in percent of the previous value. */
function changeHtml(current: unknown, previous: unknown, kind: TileFormat, formats: Formats): string {
  const { text } = formats;
  const shownPrevious = formats[kind](previous);
  if (isBlank(current) || isBlank(previous)) return `<div class="change">${text.vsPrevious} ${escapeHtml(shownPrevious)}</div>`;
  const now = Number(current);
  const before = Number(previous);
  let delta: string;
  if (kind === 'rate') {
    const points = (now - before) * 100;
    delta = `${points >= 0 ? '+' : '−'}${formats.pointsFormat.format(Math.abs(points))} p.p.`;
  } else if (before === 0) {
    delta = now === 0 ? '=' : '+∞';
  } else {
    const ratio = (now - before) / before;
    delta = `${ratio >= 0 ? '+' : '−'}${formats.percentFormat.format(Math.abs(ratio))}`;
  }
  const direction = now > before ? 'up' : now < before ? 'down' : 'same';
  return `<div class="change ${direction}">${escapeHtml(delta)} ${text.vsPrevious} ${escapeHtml(shownPrevious)}</div>`;
}

/** The funnel: sessions → view item → add to cart → checkout → purchase, as horizontal bars. */
export function funnelSvg(funnel: Row, formats: Formats): string {
  const { text } = formats;
  return barsSvg(
    [
      [text.sessions, Number(funnel.sessions ?? 0)],
      [text.viewItem, Number(funnel.sessions_with_view_item ?? 0)],
      [text.addToCart, Number(funnel.sessions_with_add_to_cart ?? 0)],
      [text.checkout, Number(funnel.sessions_with_begin_checkout ?? 0)],
      [text.purchase, Number(funnel.sessions_with_purchase ?? 0)],
    ],
    formats,
  );
}

/** Horizontal bars, each with its count and its share of the first bar. */
export function barsSvg(steps: [string, number][], formats: Formats): string {
  const { text } = formats;
  const barHeight = 28;
  const width = 720;
  const labelWidth = 190;
  const base = steps[0]![1] || 1;
  const bars = steps
    .map(([label, count], index) => {
      const y = index * (barHeight + 8);
      const barWidth = Math.max(1, Math.round(((width - labelWidth - 230) * count) / base));
      return (
        `<g data-step="${index}" data-count="${count}"><text x="0" y="${y + 19}" font-size="13">${escapeHtml(label)}</text>` +
        `<rect x="${labelWidth}" y="${y}" width="${barWidth}" height="${barHeight}" fill="#2f80ed"></rect>` +
        `<text x="${labelWidth + barWidth + 6}" y="${y + 19}" font-size="13">${formats.integer(count)} (${formats.percentFormat.format(count / base)} ${text.ofSessions})</text></g>`
      );
    })
    .join('');
  const height = steps.length * (barHeight + 8);
  return `<svg class="funnel" role="img" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg">${bars}</svg>`;
}

/** The items with the most abandoned value (ties: item_id), with their cart-to-purchase rate. */
export function topItemsHtml(items: Row[], formats: Formats, emptyText: string): string {
  const { text } = formats;
  if (items.length === 0) return `<p>${emptyText}</p>`;
  const rows = items
    .map(
      (item) =>
        `<tr data-item-id="${escapeHtml(String(item.item_id))}"><td>${escapeHtml(String(item.item_name ?? item.item_id))}</td><td>${escapeHtml(String(item.item_category ?? ''))}</td>` +
        `<td class="num">${formats.integer(item.abandoned_units)}</td><td class="num">${formats.money(item.abandoned_value)}</td><td class="num">${formats.rate(item.cart_to_purchase_rate)}</td></tr>`,
    )
    .join('\n');
  return `<table class="top-items"><thead><tr><th>${text.item}</th><th>${text.category}</th><th class="num">${text.abandonedUnits}</th><th class="num">${text.abandonedValue}</th><th class="num">${text.cartToPurchase}</th></tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

export const BASE_STYLE = `body { font-family: system-ui, sans-serif; margin: 2rem; color: #1f2933; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(15rem, 1fr)); gap: 0.75rem; }
.tile { border: 1px solid #d9e2ec; border-radius: 6px; padding: 0.75rem; min-width: 0; }
.tile .label { font-size: 0.8rem; color: #52606d; }
/* Wide enough for R$ 999.999.999,99 at 1280 px; anything longer wraps rather than spills out. */
.tile .value { font-size: 1.3rem; font-weight: 600; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
.tile .change { font-size: 0.8rem; color: #52606d; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.3rem 0.5rem; border-bottom: 1px solid #e4e7eb; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
svg { max-width: 100%; height: auto; }
.anomalies li, .anomaly { color: #9b1c1c; font-weight: 600; }`;

export function isBlank(value: unknown): boolean {
  return value === null || value === undefined || value === '';
}

/** Text for HTML (content or a quoted attribute): markup escaped, control characters as the CSV files show them. */
export function escapeHtml(value: string): string {
  return withControlPictures(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A day's (or range's) abandoned carts and value beside the remarketable ones, summed from the consent rows. */
export function remarketingTotals(funnel: Row, byConsent: Row[]): Row {
  // Money summed in cents: the rows are exact to the cent, and so is their sum.
  const cents = byConsent.reduce((total, row) => total + Math.round(Number(row.remarketable_value ?? 0) * 100), 0);
  return { abandoned_carts: funnel.abandoned_carts, abandoned_value: funnel.abandoned_value, remarketable: byConsent.reduce((total, row) => total + Number(row.remarketable ?? 0), 0), remarketable_value: (cents / 100).toFixed(2) };
}

/** Remarketable carts beside all abandoned carts, and the abandoned carts by consent. */
export function remarketingHtml(totals: Row, byConsent: Row[], formats: Formats): string {
  const { text } = formats;
  const tiles = tilesHtml(totals, formats, undefined, [
    ['abandoned_carts', 'abandonedCarts', 'integer'],
    ['abandoned_value', 'abandonedValue', 'money'],
    ['remarketable', 'remarketableCarts', 'integer'],
    ['remarketable_value', 'remarketableValue', 'money'],
  ]);
  const label = (consent: unknown) => (consent === 'granted' ? text.consentGranted : consent === 'denied' ? text.consentDenied : text.consentUnset);
  const rows = byConsent
    .map(
      (row) =>
        `<tr data-consent="${escapeHtml(String(row.consent))}"><td>${escapeHtml(label(row.consent))}</td><td class="num">${formats.integer(row.carts)}</td><td class="num">${formats.money(row.value)}</td>` +
        `<td class="num">${formats.integer(row.bought_later)}</td><td class="num">${formats.integer(row.remarketable)}</td><td class="num">${formats.money(row.remarketable_value)}</td></tr>`,
    )
    .join('\n');
  return `<p class="note">${text.remarketingNote}</p>
<section class="tiles remarketing">
${tiles}
</section>
<table class="consent"><thead><tr><th>${text.adsConsent}</th><th class="num">${text.abandonedCarts}</th><th class="num">${text.abandonedValue}</th><th class="num">${text.boughtLater}</th><th class="num">${text.remarketableCarts}</th><th class="num">${text.remarketableValue}</th></tr></thead><tbody>
${rows}
</tbody></table>`;
}

/**
 * The recovery of each cart date (and, for a range, of all of them as the first row): abandoned
 * carts, the rate within each window or "still open", recovered carts, value and same-item share.
 * Each rate cell carries the published rate in `data-rate` (empty while open or without carts).
 */
export function recoveryHtml(days: readonly Recovery[], formats: Formats, total?: Recovery): string {
  const { text } = formats;
  const windowLabel = (hours: number) => {
    const count = Math.ceil(hours / 24);
    return `${text.within} ${formats.integer(count)} ${count === 1 ? text.day : text.days}`;
  };
  const row = (recovery: Recovery, label: string, key: string) => {
    const windows = recovery.windows
      .map((w) => {
        if (!w.closed) return `<td class="num open" data-window="${w.hours}" data-open="true">${text.stillOpen}</td>`;
        // A range's window counted over only some of its cart dates says over how many.
        const partly = w.cart_dates_closed < recovery.cart_dates ? ` <span class="note">(${formats.integer(w.cart_dates_closed)}/${formats.integer(recovery.cart_dates)} ${text.ofCartDates})</span>` : '';
        return `<td class="num" data-window="${w.hours}" data-rate="${w.rate ?? ''}">${escapeHtml(formats.rate(w.rate))}${partly}</td>`;
      })
      .join('');
    const soFar = recovery.complete ? '' : ` <span class="note">(${text.soFar})</span>`;
    return (
      `<tr data-cart-date="${key}" data-complete="${recovery.complete}"><td>${escapeHtml(label)}</td><td class="num" data-abandoned="${recovery.abandoned_carts}">${formats.integer(recovery.abandoned_carts)}</td>${windows}` +
      `<td class="num" data-recovered="${recovery.recovered}">${formats.integer(recovery.recovered)}${soFar}</td>` +
      `<td class="num" data-recovered-value="${escapeHtml(recovery.recovered_value)}">${escapeHtml(formats.money(recovery.recovered_value))}${soFar}</td>` +
      `<td class="num" data-same-item="${recovery.same_item_share ?? ''}">${escapeHtml(formats.rate(recovery.same_item_share))}</td></tr>`
    );
  };
  const head = `<tr><th>${text.cartDate}</th><th class="num">${text.abandonedCarts}</th>${(total ?? days[0])?.windows.map((w) => `<th class="num">${windowLabel(w.hours)}</th>`).join('') ?? ''}<th class="num">${text.recoveredCarts}</th><th class="num">${text.recoveredValue}</th><th class="num">${text.sameItem}</th></tr>`;
  if (days.length === 0) return `<p class="note">${text.recoveryNote}</p>\n<p>${text.noCartDates}</p>`;
  const rows = [...(total ? [row(total, `${text.allCartDates} (${total.cart_date} – ${total.cart_date_to ?? total.cart_date})`, 'total')] : []), ...[...days].reverse().map((d) => row(d, d.cart_date, d.cart_date))];
  return `<p class="note">${text.recoveryNote}</p>
<table class="recovery"><thead>${head}</thead><tbody>
${rows.join('\n')}
</tbody></table>`;
}
