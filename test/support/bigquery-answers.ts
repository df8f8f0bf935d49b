// Fixed answers to the queries a BigQuery run reads back, for the fake BigQuery (which does not
// execute SQL): one date, 2026-11-01, with 6 export rows of which 1 is quarantined. Any other
// query gets no rows.
import type { QueryAnswer } from './fake-bigquery.js';

const strings = (names: string[]) => names.map((name) => ({ name, type: 'STRING' }));

export function cannedBigQueryAnswer(sql: string): QueryAnswer {
  if (sql.includes('COUNTIF(reason IS NULL AND NOT is_duplicate AND session_id IS NOT NULL) AS included')) {
    return { fields: [{ name: 'date', type: 'STRING' }, { name: 'included', type: 'INTEGER' }], rows: [['2026-11-01', '5']], bytesProcessed: 10 };
  }
  if (sql.includes("CONCAT('events_', table_suffix) AS name")) return { fields: [{ name: 'name', type: 'STRING' }, { name: 'lines', type: 'INTEGER' }], rows: [['events_20261101', '6']], bytesProcessed: 10 };
  if (sql.includes('reason, is_duplicate, COUNT(*) AS lines')) {
    return {
      fields: [{ name: 'date', type: 'STRING' }, { name: 'reason', type: 'STRING' }, { name: 'is_duplicate', type: 'BOOLEAN' }, { name: 'lines', type: 'INTEGER' }],
      rows: [['2026-11-01', null, 'false', '5'], ['2026-11-01', 'missing_user_pseudo_id', 'false', '1']],
      bytesProcessed: 10,
    };
  }
  if (sql.includes('INFORMATION_SCHEMA.TABLES')) return { fields: strings(['table_name']), rows: [['events_20261101']], bytesProcessed: 0 };
  if (sql.includes('__TABLES__')) return { fields: strings(['as_of', 'marts_modified', 'run_state']), rows: [['2026-11-02 06:00:00+00', '1793512800000', '42']], bytesProcessed: 10 };
  if (sql.includes('cartlens_staging.quality_daily` WHERE date')) {
    return {
      fields: strings(['date', 'run_id', 'lines', 'duplicates', 'quarantined', 'included_events', 'events_without_session', 'items_without_id', 'purchases_without_transaction_id']),
      rows: [['2026-11-01', 'r', '6', '0', '1', '5', '0', '0', '0']],
      bytesProcessed: 10,
    };
  }
  if (sql.includes('cartlens_marts.cart_funnel_daily` AS t')) {
    return {
      fields: strings(['date', 'sessions', 'sessions_with_view_item', 'sessions_with_add_to_cart', 'sessions_with_begin_checkout', 'sessions_with_purchase', 'abandoned_carts', 'cart_abandonment_rate', 'purchases', 'revenue', 'abandoned_value']),
      rows: [['2026-11-01', '3', '2', '2', '1', '1', '1', '0.5000', '1', '12.50', '10.00']],
      bytesProcessed: 10,
    };
  }
  return { fields: [], rows: [], bytesProcessed: 0 };
}
