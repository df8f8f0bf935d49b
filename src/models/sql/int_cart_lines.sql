-- materialized: temp
-- description: A session's cart at its end: one row per session and item_id, with net units and cart price.
SELECT
  e.event_date, e.user_pseudo_id, e.session_id, i.item_id,
  GREATEST(
    SUM(CASE WHEN e.event_name = 'add_to_cart' THEN i.quantity ELSE 0 END)
      - SUM(CASE WHEN e.event_name = 'remove_from_cart' THEN i.quantity ELSE 0 END),
    0) AS net_units,
  -- The cart price: the item's price in the session's latest add_to_cart that carries one (ties
  -- on timestamp: the later line; within one event, the later item). Without one, 0.
  COALESCE(
    {{ last_non_null_by(CASE WHEN e.event_name = 'add_to_cart' THEN i.price END, (e.event_ts, e.input_seq, i.item_index)) }},
    0) AS cart_price
FROM {{ ref('stg_events') }} AS e
JOIN {{ ref('stg_event_items') }} AS i
  ON i.event_date = e.event_date AND i.input_seq = e.input_seq
WHERE e.event_date IN {{ run_dates }}
  AND i.event_date IN {{ run_dates }}
  AND e.session_id IS NOT NULL
  AND e.event_name IN ('add_to_cart', 'remove_from_cart')
  AND i.item_id IS NOT NULL
GROUP BY e.event_date, e.user_pseudo_id, e.session_id, i.item_id
