/**
 * The published tables, as the contract (shared/spec/cart-metrics.md) defines them: names, keys,
 * columns in the contract's order, what each column means, and how each metric adds up. The
 * warehouses, the CSV files, the dashboard, report.html, the anomaly check, the data dictionary,
 * the BigQuery schemas and the Dataform repository all read them from here.
 */

/** How a column is typed in the warehouse and written in the CSV files. */
export type ColumnKind = 'date' | 'integer' | 'money' | 'rate' | 'hours' | 'boolean' | 'timestamp' | 'text';

/** What a metric counts: its unit follows from its column's kind (integer: count). */
export type MetricKind = 'count' | 'money' | 'rate';

/**
 * How a metric column adds up. An additive metric of a range (or of several rows) is the sum of
 * its values; a rate never is: it is computed again from the sums of its `ratio`'s counts, with
 * the contract's rounding. A metric that is neither (GA4's totalPurchasers) is shown per row only.
 */
export interface Metric {
  additive: boolean;
  /** A rate's numerator and denominator: columns of the same table. */
  ratio?: readonly [numerator: string, denominator: string];
}

export interface PublishedColumn {
  name: string;
  kind: ColumnKind;
  /** What the number means, as the contract (shared/spec/cart-metrics.md) defines it. */
  doc: string;
  /** Set on measures; key columns and attributes have none. */
  metric?: Metric;
}

export interface PublishedTable {
  name: string;
  doc: string;
  columns: PublishedColumn[];
  /** Sort order of the rows, which is also the table's unique key. */
  key: string[];
}

const col = (name: string, kind: ColumnKind, doc: string): PublishedColumn => ({ name, kind, doc });
/** A metric summed over days and rows: a count (integer) or money. */
const sum = (name: string, kind: 'integer' | 'money', doc: string): PublishedColumn => ({ name, kind, doc, metric: { additive: true } });
/** A rate, computed again from the sums of its numerator and denominator. */
const ratio = (name: string, numerator: string, denominator: string, doc: string): PublishedColumn => ({ name, kind: 'rate', doc, metric: { additive: false, ratio: [numerator, denominator] } });
/** A count that does not add up across rows or days. */
const perRow = (name: string, doc: string): PublishedColumn => ({ name, kind: 'integer', doc, metric: { additive: false } });

/** The four tables of the contract, with their columns in the contract's order (and publishing order). */
export const PUBLISHED_TABLES: readonly PublishedTable[] = [
  {
    name: 'cart_funnel_daily',
    doc: 'The cart funnel, one row per date.',
    key: ['date'],
    columns: [
      col('date', 'date', 'The event_date (property-local), YYYY-MM-DD.'),
      sum('sessions', 'integer', 'Sessions with any event.'),
      sum('sessions_with_view_item', 'integer', 'Sessions with at least one view_item.'),
      sum('sessions_with_add_to_cart', 'integer', 'Sessions with at least one add_to_cart.'),
      sum('sessions_with_begin_checkout', 'integer', 'Sessions with at least one begin_checkout.'),
      sum('sessions_with_purchase', 'integer', 'Sessions with at least one purchase.'),
      sum('abandoned_carts', 'integer', 'Sessions with an add_to_cart, no purchase, and net units > 0 for an item at the end.'),
      ratio('cart_abandonment_rate', 'abandoned_carts', 'sessions_with_add_to_cart', 'abandoned_carts / sessions_with_add_to_cart, 4 decimals; empty when there is no add_to_cart.'),
      sum('purchases', 'integer', 'Distinct non-empty transaction_id over purchase events.'),
      sum('revenue', 'money', 'Sum of purchase_revenue over those transactions (the first event of each, in input order).'),
      sum('abandoned_value', 'money', 'Sum of cart value over abandoned carts.'),
    ],
  },
  {
    name: 'abandoned_carts',
    doc: 'The remarketing list: one row per abandoned cart.',
    key: ['date', 'user_key', 'session_id'],
    columns: [
      col('date', 'date', 'The event_date, YYYY-MM-DD.'),
      col('user_key', 'text', 'Lowercase hex HMAC-SHA256 of user_pseudo_id with the configured secret.'),
      col('session_id', 'integer', 'The ga_session_id.'),
      col('first_add_at', 'timestamp', 'First add_to_cart, ISO-8601 UTC with milliseconds.'),
      col('last_cart_event_at', 'timestamp', 'Last add_to_cart or remove_from_cart, ISO-8601 UTC with milliseconds.'),
      col('reached_checkout', 'boolean', 'true if the session has a begin_checkout.'),
      sum('distinct_items', 'integer', 'Items with net units > 0.'),
      sum('units', 'integer', 'Sum of net units.'),
      sum('cart_value', 'money', 'Sum of net units × cart price.'),
      col('device_category', 'text', "The session's first event's device.category."),
      col('country', 'text', "The session's first event's geo.country."),
      col('source', 'text', "The session's first event's traffic_source.source (first-touch)."),
      col('medium', 'text', "The session's first event's traffic_source.medium (first-touch)."),
      col('purchased_later', 'boolean', 'true when the same user_pseudo_id has an included purchase event that date, in any session, later than the last add_to_cart or remove_from_cart: remarketing suppresses these.'),
      col('ads_consent', 'text', "granted or denied: privacy_info.ads_storage (exactly Yes or No) of the session's latest event that has it; empty when none has."),
    ],
  },
  {
    name: 'cart_items_daily',
    doc: 'Item-level cart metrics, one row per date and item_id.',
    key: ['date', 'item_id'],
    columns: [
      col('date', 'date', 'The event_date, YYYY-MM-DD.'),
      col('item_id', 'text', 'The item_id.'),
      col('item_name', 'text', 'Most frequent non-empty item_name that day (ties: the smallest).'),
      col('item_category', 'text', 'Most frequent non-empty item_category that day (ties: the smallest).'),
      sum('views', 'integer', 'view_item events that include the item.'),
      sum('add_to_cart_units', 'integer', 'Sum of quantity in add_to_cart events.'),
      sum('remove_from_cart_units', 'integer', 'Sum of quantity in remove_from_cart events.'),
      sum('purchased_units', 'integer', 'Sum of quantity in purchase events, each transaction once.'),
      sum('purchased_revenue', 'money', 'Sum of item_revenue, else price × quantity, over those purchased items.'),
      ratio('cart_to_purchase_rate', 'purchased_units', 'add_to_cart_units', 'purchased_units / add_to_cart_units, 4 decimals; empty when nothing was added.'),
      sum('abandoned_units', 'integer', 'Sum of net units of the item over abandoned carts.'),
      sum('abandoned_value', 'money', 'Sum of net units × cart price of the item over abandoned carts.'),
    ],
  },
  {
    name: 'cart_recoveries',
    doc: 'One row per abandoned cart that its user bought within 14 days, on the date of the purchase (the one table that reads other dates).',
    key: ['date', 'cart_date', 'user_key', 'session_id'],
    columns: [
      col('date', 'date', "The recovering purchase's event_date, YYYY-MM-DD."),
      col('cart_date', 'date', "The abandoned cart's date, YYYY-MM-DD."),
      col('user_key', 'text', "The cart's user_key, exactly as in abandoned_carts and remarketing_audience."),
      col('session_id', 'integer', "The cart's ga_session_id."),
      sum('cart_value', 'money', "The cart's value, as in abandoned_carts."),
      col('last_cart_event_at', 'timestamp', "The cart's last add_to_cart or remove_from_cart, ISO-8601 UTC with milliseconds."),
      col('recovered_at', 'timestamp', "The recovering purchase's event_timestamp, ISO-8601 UTC with milliseconds: the user's first included purchase later than the cart's last cart event and at most 14 days later."),
      col('hours_to_recovery', 'hours', '(recovered_at − last_cart_event_at) in hours from the full-precision timestamps, 2 decimals.'),
      col('same_item', 'boolean', "true when the purchase's items include an item_id with net units > 0 in the cart."),
      col('transaction_id', 'text', "The purchase's ecommerce.transaction_id; empty when it has none."),
      { name: 'purchase_revenue', kind: 'money', doc: "The purchase's purchase_revenue (else 0); repeated on each cart it recovers: count each transaction_id once to sum it.", metric: { additive: false } },
    ],
  },
];

/** How long after its last cart event a cart can be recovered: 14 days, in microseconds (the contract's time rule). */
export const RECOVERY_WINDOW_MICROS = 1_209_600_000_000;
/**
 * The dates whose events a date's cart_recoveries can read, relative to it: carts of the 16 dates
 * before it and of the one after it (Cleaning 2's one-day tolerance), and the purchases that could
 * come first (one more date each way).
 */
export const RECOVERY_EVENT_DATES = { before: 17, after: 2 } as const;
/** The dates whose cart_recoveries a date's carts can change: the one before it and the 16 after it. */
export const RECOVERY_REACH = { before: 1, after: 16 } as const;
/** The recovery windows report.html and the dashboard show, in hours. */
export const RECOVERY_WINDOWS_HOURS = [24, 72, 168, 336] as const;

export const PUBLISHED_TABLE_NAMES = PUBLISHED_TABLES.map((t) => t.name);

/**
 * The remarketing audience (issue 13), published only with `export.remarketing_audience: true`:
 * the abandoned carts marketing may use as they are (src/contract/remarketing.ts). Derived from
 * `abandoned_carts` by the model `remarketing_audience.sql`.
 */
export const REMARKETING_AUDIENCE: PublishedTable = {
  name: 'remarketing_audience',
  doc: 'The remarketable abandoned carts: not purchased later that day, ads consent granted. One row per cart.',
  key: ['date', 'user_key', 'session_id'],
  columns: [
    col('date', 'date', 'The event_date, YYYY-MM-DD.'),
    col('user_key', 'text', 'Lowercase hex HMAC-SHA256 of user_pseudo_id with the configured secret.'),
    col('session_id', 'integer', 'The ga_session_id.'),
    sum('cart_value', 'money', 'Sum of net units × cart price.'),
    sum('distinct_items', 'integer', 'Items in the cart (net units > 0).'),
    col('last_cart_event_at', 'timestamp', 'Last add_to_cart or remove_from_cart, ISO-8601 UTC with milliseconds.'),
  ],
};

/**
 * The GA4 Data API's tables (issue 4), in the contract's file rules. Columns keep GA4's metric
 * meanings (src/sources/ga4-data-api/reports.ts); rates are recomputed from additive counts and
 * non-additive metrics (totalPurchasers) are published per row, never summed.
 */
export const API_TABLES: readonly PublishedTable[] = [
  {
    name: 'ga4_api_items_daily',
    doc: 'GA4 Data API item report, one row per date and item.',
    key: ['date', 'item_id'],
    columns: [
      col('date', 'date', 'The report date (property time zone).'),
      col('item_id', 'text', 'itemId.'),
      col('item_name', 'text', 'itemName.'),
      col('item_category', 'text', 'itemCategory.'),
      sum('items_viewed', 'integer', 'itemsViewed: units viewed.'),
      sum('items_added_to_cart', 'integer', 'itemsAddedToCart: units added to cart.'),
      sum('items_checked_out', 'integer', 'itemsCheckedOut: units checked out.'),
      sum('items_purchased', 'integer', 'itemsPurchased: units in purchase events.'),
      sum('item_revenue', 'money', 'itemRevenue: revenue from purchases minus refunds, items only.'),
      ratio('cart_to_purchase_rate', 'items_purchased', 'items_added_to_cart', 'items_purchased / items_added_to_cart, recomputed from the counts; empty when none were added.'),
    ],
  },
  {
    name: 'ga4_api_funnel_daily',
    doc: 'GA4 Data API funnel report, one row per date, device, country and session source / medium.',
    key: ['date', 'device_category', 'country', 'session_source_medium'],
    columns: [
      col('date', 'date', 'The report date (property time zone).'),
      col('device_category', 'text', 'deviceCategory.'),
      col('country', 'text', 'country.'),
      col('session_source_medium', 'text', 'sessionSourceMedium.'),
      sum('sessions', 'integer', 'sessions: sessions that began.'),
      sum('add_to_carts', 'integer', 'addToCarts: times items were added to carts.'),
      sum('checkouts', 'integer', 'checkouts: times checkout started.'),
      sum('ecommerce_purchases', 'integer', 'ecommercePurchases: purchases completed.'),
      sum('purchase_revenue', 'money', 'purchaseRevenue: revenue from purchases minus refunds.'),
      perRow('total_purchasers', 'totalPurchasers: distinct purchasing users of this row; not additive across rows or days.'),
    ],
  },
];

/** Every table cartlens publishes (the contract's and the Data API's): BigQuery keeps them in the marts dataset. */
export const ALL_PUBLISHED_TABLES: readonly PublishedTable[] = [...PUBLISHED_TABLES, REMARKETING_AUDIENCE, ...API_TABLES];
export const MARTS_TABLE_NAMES: readonly string[] = ALL_PUBLISHED_TABLES.map((t) => t.name);

/** A published table by name; a name that is not one is a programming error. */
export function publishedTable(name: string): PublishedTable {
  const table = ALL_PUBLISHED_TABLES.find((t) => t.name === name);
  if (!table) throw new Error(`${name} is not a published table`);
  return table;
}

/** A table's column by name; a name that is not one is a programming error. */
export function publishedColumn(table: PublishedTable, name: string): PublishedColumn {
  const column = table.columns.find((c) => c.name === name);
  if (!column) throw new Error(`${table.name} has no column ${name}`);
  return column;
}

/** A metric's unit: money, a rate, or (an integer) a count. */
export function metricKind(column: PublishedColumn): MetricKind {
  if (!column.metric) throw new Error(`${column.name} is not a metric`);
  return column.kind === 'money' ? 'money' : column.kind === 'rate' ? 'rate' : 'count';
}

/** Decimals a published value of the kind has: what the CSV writes and the anomaly check reads exactly. */
export const DECIMALS: Readonly<Record<MetricKind, number>> = { count: 0, money: 2, rate: 4 };

/** Text columns a spreadsheet could run as a formula: the CSV writer guards them. */
export const isTextColumn = (column: PublishedColumn) => column.kind === 'text';

/** A label in each language report.html and the dashboard are written in. */
export type Localized = Readonly<{ en: string; 'pt-BR': string }>;

/**
 * The funnel's tiles, in the order report.html and the dashboard show them: each a metric of
 * `cart_funnel_daily` (a day's value, or a range's from the sums) with its label.
 */
export const FUNNEL_TILES: readonly { column: string; label: Localized }[] = [
  { column: 'sessions', label: { en: 'Sessions', 'pt-BR': 'Sessões' } },
  { column: 'sessions_with_add_to_cart', label: { en: 'Sessions with a cart', 'pt-BR': 'Sessões com carrinho' } },
  { column: 'cart_abandonment_rate', label: { en: 'Cart abandonment rate', 'pt-BR': 'Taxa de abandono de carrinho' } },
  { column: 'abandoned_value', label: { en: 'Abandoned value', 'pt-BR': 'Valor abandonado' } },
  { column: 'purchases', label: { en: 'Purchases', 'pt-BR': 'Compras' } },
  { column: 'revenue', label: { en: 'Revenue', 'pt-BR': 'Receita' } },
];

/**
 * The metrics of `cart_funnel_daily` the anomaly check judges each published date on, in the
 * order its judgements, alerts and badges list them.
 */
export const ANOMALY_METRICS = ['cart_abandonment_rate', 'abandoned_value', 'sessions', 'revenue'] as const;

/**
 * The recovery rate the anomaly check judges too, after the metrics above: the rate within this
 * window (one of RECOVERY_WINDOWS_HOURS) of the cart date whose window the judged date's
 * publication closes (src/reports/recovery.ts).
 */
export const RECOVERY_ANOMALY_METRIC = { name: 'recovery_rate_7d', window_hours: 168 } as const;
