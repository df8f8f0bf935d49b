-- materialized: temp
-- description: A session's cart at its end: one row per session and item_id, with net units and cart price.
SELECT
  event_date, user_pseudo_id, session_id, item_id,
  GREATEST(
    SUM(CASE WHEN event_name = 'add_to_cart' THEN quantity ELSE 0 END)
      - SUM(CASE WHEN event_name = 'remove_from_cart' THEN quantity ELSE 0 END),
    0) AS net_units,
  -- The cart price: the item's price in the session's latest add_to_cart that carries one (ties
  -- on timestamp: the later line; within one event, the later item). Without one, 0.
  COALESCE(
    {{ last_non_null_by(CASE WHEN event_name = 'add_to_cart' THEN price END, (event_ts, input_seq, item_index)) }},
    0) AS cart_price
FROM {{ ref('int_item_events') }}
WHERE event_name IN ('add_to_cart', 'remove_from_cart')
GROUP BY event_date, user_pseudo_id, session_id, item_id
