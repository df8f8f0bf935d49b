import type { SeededRandom } from './random.js';

/** Every dirty case the contract names, so that each run of the demo exercises each rule. */
export const DIRTY_KINDS = [
  'duplicate_line',
  'blank_line',
  'invalid_json',
  'not_an_object',
  'missing_event_name',
  'empty_user_pseudo_id',
  'invalid_event_date',
  'invalid_event_timestamp',
  'event_date_mismatch',
  'items_not_array',
  'event_params_not_array',
  'invalid_item_quantity',
  'invalid_item_price',
  'invalid_item_revenue',
  'missing_session_id',
  'session_id_as_string_value',
  'timestamp_as_number',
  'null_records',
  'item_without_id',
  'item_without_quantity',
  'item_without_price',
  'purchase_without_transaction_id',
  'non_numeric_purchase_revenue',
  'resent_purchase',
] as const;
export type DirtyKind = (typeof DIRTY_KINDS)[number];

type Json = Record<string, unknown>;

const ITEM_KINDS: readonly DirtyKind[] = ['invalid_item_quantity', 'invalid_item_price', 'invalid_item_revenue', 'item_without_id', 'item_without_quantity', 'item_without_price'];
const PURCHASE_KINDS: readonly DirtyKind[] = ['purchase_without_transaction_id', 'non_numeric_purchase_revenue', 'resent_purchase'];

/** The dirty cases that make sense for this event (item cases need items, purchase cases a purchase). */
export function kindsFor(event: Json): DirtyKind[] {
  const hasItems = Array.isArray(event.items) && event.items.length > 0;
  return DIRTY_KINDS.filter(
    (kind) => (!ITEM_KINDS.includes(kind) || hasItems) && (!PURCHASE_KINDS.includes(kind) || event.event_name === 'purchase'),
  );
}

/** Returns the line(s) that stand for `event` after applying one dirty case to it. */
export function injectDirt(kind: DirtyKind, event: Json, random: SeededRandom): string[] {
  const clean = JSON.stringify(event);
  const items = Array.isArray(event.items) ? (event.items as Json[]) : [];
  const firstItem = items[0];
  switch (kind) {
    case 'duplicate_line':
      return [clean, clean];
    case 'blank_line':
      return [clean, random.chance(0.5) ? '' : '   '];
    case 'invalid_json':
      return [clean.slice(0, Math.floor(clean.length / 2))];
    case 'not_an_object':
      return [JSON.stringify([event.event_name, event.event_date])];
    case 'missing_event_name':
      return [JSON.stringify({ ...event, event_name: random.chance(0.5) ? '' : null })];
    case 'empty_user_pseudo_id':
      return [JSON.stringify({ ...event, user_pseudo_id: '' })];
    case 'invalid_event_date':
      return [JSON.stringify({ ...event, event_date: random.pick(['20261131', '2026-11-01', 'hoje']) })];
    case 'invalid_event_timestamp':
      return [JSON.stringify({ ...event, event_timestamp: random.pick(['17.5e3', 'agora', 1.5]) })];
    case 'event_date_mismatch':
      // A corrupt date far from the event's timestamp, or one a few days off: at least 3, as the
      // local date itself may be a day from the timestamp's UTC date.
      return [JSON.stringify({ ...event, event_date: random.chance(0.5) ? '99991231' : shiftDate(String(event.event_date), random.pick([-4, 3, 6])) })];
    case 'items_not_array':
      return [JSON.stringify({ ...event, items: { item_id: 'SKU_BROKEN' } })];
    case 'event_params_not_array':
      return [JSON.stringify({ ...event, event_params: 'ga_session_id=1' })];
    case 'timestamp_as_number':
      return [JSON.stringify({ ...event, event_timestamp: Number(event.event_timestamp) })];
    case 'null_records':
      return [JSON.stringify({ ...event, device: null, geo: null, traffic_source: null })];
    case 'missing_session_id':
      return [JSON.stringify({ ...event, event_params: (event.event_params as Json[]).filter((p) => p.key !== 'ga_session_id') })];
    case 'session_id_as_string_value':
      return [
        JSON.stringify({
          ...event,
          event_params: (event.event_params as Json[]).map((p) =>
            p.key === 'ga_session_id' ? { key: p.key, value: { string_value: (p.value as Json).int_value } } : p,
          ),
        }),
      ];
    default:
      break;
  }
  // The remaining cases need an item or a purchase; on other events they fall back to a clean line.
  if (firstItem) {
    const withItem = (patch: Json | ((item: Json) => Json)) =>
      JSON.stringify({ ...event, items: [typeof patch === 'function' ? patch(firstItem) : { ...firstItem, ...patch }, ...items.slice(1)] });
    switch (kind) {
      case 'invalid_item_quantity':
        return [withItem({ quantity: random.pick([0, -1, 1.5, 'dois']) })];
      case 'invalid_item_price':
        return [withItem({ price: random.pick(['R$ 10', 'NaN', true]) })];
      case 'invalid_item_revenue':
        return [withItem({ item_revenue: 'grátis' })];
      case 'item_without_id':
        return [withItem(({ item_id: _dropped, ...rest }) => rest)];
      case 'item_without_quantity':
        return [withItem(({ quantity: _dropped, ...rest }) => rest)];
      case 'item_without_price':
        return [withItem(({ price: _dropped, ...rest }) => rest)];
      default:
        break;
    }
  }
  if (event.event_name === 'purchase') {
    const ecommerce = event.ecommerce as Json;
    switch (kind) {
      case 'purchase_without_transaction_id':
        return [JSON.stringify({ ...event, ecommerce: { ...ecommerce, transaction_id: random.chance(0.5) ? '' : null } })];
      case 'non_numeric_purchase_revenue':
        return [JSON.stringify({ ...event, ecommerce: { ...ecommerce, purchase_revenue: 'n/a' } })];
      case 'resent_purchase':
        // The same transaction sent twice, a second later: not byte-identical, counted once.
        return [clean, JSON.stringify({ ...event, event_timestamp: String(Number(event.event_timestamp) + 1_000_000) })];
      default:
        break;
    }
  }
  return [clean];
}

/** `YYYYMMDD` moved by whole days. */
function shiftDate(yyyymmdd: string, days: number): string {
  const date = new Date(Date.UTC(Number(yyyymmdd.slice(0, 4)), Number(yyyymmdd.slice(4, 6)) - 1, Number(yyyymmdd.slice(6, 8)) + days));
  return date.toISOString().slice(0, 10).replaceAll('-', '');
}
