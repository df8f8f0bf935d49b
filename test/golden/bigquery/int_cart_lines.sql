CREATE TEMP TABLE `int_cart_lines` AS
SELECT
  event_date, user_pseudo_id, session_id, item_id,
  GREATEST(
    SUM(CASE WHEN event_name = 'add_to_cart' THEN quantity ELSE 0 END)
      - SUM(CASE WHEN event_name = 'remove_from_cart' THEN quantity ELSE 0 END),
    0) AS net_units,
  -- The cart price: the item's price in the session's latest add_to_cart that carries one (ties
  -- on timestamp: the later line; within one event, the later item). Without one, 0.
  COALESCE(
    ARRAY_AGG(CASE WHEN event_name = 'add_to_cart' THEN price END IGNORE NULLS ORDER BY event_ts DESC, input_seq DESC, item_index DESC LIMIT 1)[SAFE_OFFSET(0)],
    0) AS cart_price
FROM `int_item_events`
WHERE event_name IN ('add_to_cart', 'remove_from_cart')
GROUP BY event_date, user_pseudo_id, session_id, item_id;
