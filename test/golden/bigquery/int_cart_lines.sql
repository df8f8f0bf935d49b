CREATE TEMP TABLE `int_cart_lines` AS
SELECT
  e.event_date, e.user_pseudo_id, e.session_id, i.item_id,
  GREATEST(
    SUM(CASE WHEN e.event_name = 'add_to_cart' THEN i.quantity ELSE 0 END)
      - SUM(CASE WHEN e.event_name = 'remove_from_cart' THEN i.quantity ELSE 0 END),
    0) AS net_units,
  -- The cart price: the item's price in the session's latest add_to_cart that carries one (ties
  -- on timestamp: the later line; within one event, the later item). Without one, 0.
  COALESCE(
    ARRAY_AGG(CASE WHEN e.event_name = 'add_to_cart' THEN i.price END IGNORE NULLS ORDER BY e.event_ts DESC, e.input_seq DESC, i.item_index DESC LIMIT 1)[SAFE_OFFSET(0)],
    0) AS cart_price
FROM `my-project.cartlens_staging.stg_events` AS e
JOIN `my-project.cartlens_staging.stg_event_items` AS i
  ON i.event_date = e.event_date AND i.input_seq = e.input_seq
WHERE e.event_date IN (DATE '2026-11-01')
  AND i.event_date IN (DATE '2026-11-01')
  AND e.session_id IS NOT NULL
  AND e.event_name IN ('add_to_cart', 'remove_from_cart')
  AND i.item_id IS NOT NULL
GROUP BY e.event_date, e.user_pseudo_id, e.session_id, i.item_id;
