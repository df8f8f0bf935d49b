CREATE OR REPLACE TEMP TABLE "int_item_events" AS
SELECT
  e.event_date, e.user_pseudo_id, e.session_id, e.event_name, e.event_ts, e.input_seq, e.transaction_id,
  i.item_index, i.item_id, i.item_name, i.item_category, i.quantity, i.price, i.item_revenue
FROM "stg_events" AS e
JOIN "stg_event_items" AS i
  ON i.event_date = e.event_date AND i.input_seq = e.input_seq
WHERE e.event_date IN (DATE '2026-11-01')
  AND i.event_date IN (DATE '2026-11-01')
  AND e.session_id IS NOT NULL
  AND i.item_id IS NOT NULL;
