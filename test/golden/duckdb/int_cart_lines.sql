CREATE OR REPLACE TEMP TABLE "int_cart_lines" AS
WITH cart_item_events AS (
  SELECT
    e.event_date, e.user_pseudo_id, e.session_id, e.event_name, e.event_ts, e.input_seq,
    i.item_index, i.item_id, i.quantity, i.price
  FROM "stg_events" AS e
  JOIN "stg_event_items" AS i
    ON i.event_date = e.event_date AND i.input_seq = e.input_seq
  WHERE e.event_date IN (DATE '2026-11-01')
    AND i.event_date IN (DATE '2026-11-01')
    AND e.session_id IS NOT NULL
    AND e.event_name IN ('add_to_cart', 'remove_from_cart')
    AND i.item_id IS NOT NULL
),
-- The cart price: the item's price in the session's latest add_to_cart that carries one
-- (ties on timestamp: the later line; within one event, the later item).
latest_price AS (
  SELECT event_date, user_pseudo_id, session_id, item_id, price AS cart_price
  FROM (
    SELECT *, ROW_NUMBER() OVER (
      PARTITION BY event_date, user_pseudo_id, session_id, item_id
      ORDER BY event_ts DESC, input_seq DESC, item_index DESC) AS recency
    FROM cart_item_events
    WHERE event_name = 'add_to_cart' AND price IS NOT NULL
  ) AS ranked
  WHERE recency = 1
),
units AS (
  SELECT
    event_date, user_pseudo_id, session_id, item_id,
    GREATEST(
      SUM(CASE WHEN event_name = 'add_to_cart' THEN quantity ELSE 0 END)
        - SUM(CASE WHEN event_name = 'remove_from_cart' THEN quantity ELSE 0 END),
      0) AS net_units
  FROM cart_item_events
  GROUP BY event_date, user_pseudo_id, session_id, item_id
)
SELECT
  u.event_date, u.user_pseudo_id, u.session_id, u.item_id, u.net_units,
  -- An item without a price has value 0.
  COALESCE(p.cart_price, 0) AS cart_price
FROM units AS u
LEFT JOIN latest_price AS p
  ON p.event_date = u.event_date AND p.user_pseudo_id = u.user_pseudo_id
  AND p.session_id = u.session_id AND p.item_id = u.item_id;
