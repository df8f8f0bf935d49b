/** How a column is typed in the warehouse and written in the CSV files. */
export type ColumnKind = 'date' | 'integer' | 'money' | 'rate' | 'boolean' | 'timestamp' | 'text';

export interface PublishedColumn {
  name: string;
  kind: ColumnKind;
  /** What the number means, as the contract (shared/spec/cart-metrics.md) defines it. */
  doc: string;
}

export interface PublishedTable {
  name: string;
  doc: string;
  columns: PublishedColumn[];
  /** Sort order of the rows, which is also the table's unique key. */
  key: string[];
}

const col = (name: string, kind: ColumnKind, doc: string): PublishedColumn => ({ name, kind, doc });

/** The three tables of the contract, with their columns in the contract's order. */
export const PUBLISHED_TABLES: readonly PublishedTable[] = [
  {
    name: 'cart_funnel_daily',
    doc: 'The cart funnel, one row per date.',
    key: ['date'],
    columns: [
      col('date', 'date', 'The event_date (property-local), YYYY-MM-DD.'),
      col('sessions', 'integer', 'Sessions with any event.'),
      col('sessions_with_view_item', 'integer', 'Sessions with at least one view_item.'),
      col('sessions_with_add_to_cart', 'integer', 'Sessions with at least one add_to_cart.'),
      col('sessions_with_begin_checkout', 'integer', 'Sessions with at least one begin_checkout.'),
      col('sessions_with_purchase', 'integer', 'Sessions with at least one purchase.'),
      col('abandoned_carts', 'integer', 'Sessions with an add_to_cart, no purchase, and net units > 0 for an item at the end.'),
      col('cart_abandonment_rate', 'rate', 'abandoned_carts / sessions_with_add_to_cart, 4 decimals; empty when there is no add_to_cart.'),
      col('purchases', 'integer', 'Distinct non-empty transaction_id over purchase events.'),
      col('revenue', 'money', 'Sum of purchase_revenue over those transactions (the first event of each, in input order).'),
      col('abandoned_value', 'money', 'Sum of cart value over abandoned carts.'),
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
      col('distinct_items', 'integer', 'Items with net units > 0.'),
      col('units', 'integer', 'Sum of net units.'),
      col('cart_value', 'money', 'Sum of net units × cart price.'),
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
      col('views', 'integer', 'view_item events that include the item.'),
      col('add_to_cart_units', 'integer', 'Sum of quantity in add_to_cart events.'),
      col('remove_from_cart_units', 'integer', 'Sum of quantity in remove_from_cart events.'),
      col('purchased_units', 'integer', 'Sum of quantity in purchase events, each transaction once.'),
      col('purchased_revenue', 'money', 'Sum of item_revenue, else price × quantity, over those purchased items.'),
      col('cart_to_purchase_rate', 'rate', 'purchased_units / add_to_cart_units, 4 decimals; empty when nothing was added.'),
      col('abandoned_units', 'integer', 'Sum of net units of the item over abandoned carts.'),
      col('abandoned_value', 'money', 'Sum of net units × cart price of the item over abandoned carts.'),
    ],
  },
];

export const PUBLISHED_TABLE_NAMES = PUBLISHED_TABLES.map((t) => t.name);

/**
 * The remarketing audience (issue 13), published only with `export.remarketing_audience: true`:
 * the abandoned carts marketing may use as they are — not bought later that day, and consent for
 * advertising granted. Derived from `abandoned_carts` by the model `remarketing_audience.sql`.
 */
export const REMARKETING_AUDIENCE: PublishedTable = {
  name: 'remarketing_audience',
  doc: 'The remarketable abandoned carts: not purchased later that day, ads consent granted. One row per cart.',
  key: ['date', 'user_key', 'session_id'],
  columns: [
    col('date', 'date', 'The event_date, YYYY-MM-DD.'),
    col('user_key', 'text', 'Lowercase hex HMAC-SHA256 of user_pseudo_id with the configured secret.'),
    col('session_id', 'integer', 'The ga_session_id.'),
    col('cart_value', 'money', 'Sum of net units × cart price.'),
    col('distinct_items', 'integer', 'Items in the cart (net units > 0).'),
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
      col('items_viewed', 'integer', 'itemsViewed: units viewed.'),
      col('items_added_to_cart', 'integer', 'itemsAddedToCart: units added to cart.'),
      col('items_checked_out', 'integer', 'itemsCheckedOut: units checked out.'),
      col('items_purchased', 'integer', 'itemsPurchased: units in purchase events.'),
      col('item_revenue', 'money', 'itemRevenue: revenue from purchases minus refunds, items only.'),
      col('cart_to_purchase_rate', 'rate', 'items_purchased / items_added_to_cart, recomputed from the counts; empty when none were added.'),
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
      col('sessions', 'integer', 'sessions: sessions that began.'),
      col('add_to_carts', 'integer', 'addToCarts: times items were added to carts.'),
      col('checkouts', 'integer', 'checkouts: times checkout started.'),
      col('ecommerce_purchases', 'integer', 'ecommercePurchases: purchases completed.'),
      col('purchase_revenue', 'money', 'purchaseRevenue: revenue from purchases minus refunds.'),
      col('total_purchasers', 'integer', 'totalPurchasers: distinct purchasing users of this row; not additive across rows or days.'),
    ],
  },
];

/** Text columns a spreadsheet could run as a formula: the CSV writer guards them. */
export const isTextColumn = (column: PublishedColumn) => column.kind === 'text';

/** Every table cartlens publishes (the contract's and the Data API's): BigQuery keeps them in the marts dataset. */
export const ALL_PUBLISHED_TABLES: readonly PublishedTable[] = [...PUBLISHED_TABLES, REMARKETING_AUDIENCE, ...API_TABLES];
export const MARTS_TABLE_NAMES: readonly string[] = ALL_PUBLISHED_TABLES.map((t) => t.name);
