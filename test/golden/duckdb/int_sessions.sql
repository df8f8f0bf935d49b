CREATE OR REPLACE TEMP TABLE "int_sessions" AS
WITH events AS (
  SELECT *
  FROM "stg_events"
  WHERE event_date IN (DATE '2026-11-01') AND session_id IS NOT NULL
),
flags AS (
  SELECT
    event_date, user_pseudo_id, session_id,
    MAX(CASE WHEN event_name = 'view_item' THEN 1 ELSE 0 END) = 1 AS has_view_item,
    MAX(CASE WHEN event_name = 'add_to_cart' THEN 1 ELSE 0 END) = 1 AS has_add_to_cart,
    MAX(CASE WHEN event_name = 'begin_checkout' THEN 1 ELSE 0 END) = 1 AS has_begin_checkout,
    MAX(CASE WHEN event_name = 'purchase' THEN 1 ELSE 0 END) = 1 AS has_purchase,
    MIN(CASE WHEN event_name = 'add_to_cart' THEN event_ts END) AS first_add_ts,
    MAX(CASE WHEN event_name IN ('add_to_cart', 'remove_from_cart') THEN event_ts END) AS last_cart_event_ts,
    -- As the session's first event (by timestamp, then input order) has them, even when empty.
    arg_min_null(device_category, (CAST(event_ts AS HUGEINT) * 18446744073709551616 + (CAST(input_seq AS HUGEINT) + 9223372036854775808))) AS device_category,
    arg_min_null(country, (CAST(event_ts AS HUGEINT) * 18446744073709551616 + (CAST(input_seq AS HUGEINT) + 9223372036854775808))) AS country,
    arg_min_null(source, (CAST(event_ts AS HUGEINT) * 18446744073709551616 + (CAST(input_seq AS HUGEINT) + 9223372036854775808))) AS source,
    arg_min_null(medium, (CAST(event_ts AS HUGEINT) * 18446744073709551616 + (CAST(input_seq AS HUGEINT) + 9223372036854775808))) AS medium,
    -- Consent mode: the latest event (by timestamp, then input order) that says Yes or No.
    arg_max(ads_storage, (CAST(event_ts AS HUGEINT) * 18446744073709551616 + (CAST(input_seq AS HUGEINT) + 9223372036854775808))) AS ads_storage
  FROM events
  GROUP BY event_date, user_pseudo_id, session_id
),
purchases AS (
  -- A user's last included purchase of the day, in any session (full precision).
  SELECT event_date, user_pseudo_id, MAX(event_ts) AS last_purchase_ts
  FROM events
  WHERE event_name = 'purchase'
  GROUP BY event_date, user_pseudo_id
),
carts AS (
  SELECT
    event_date, user_pseudo_id, session_id,
    SUM(CASE WHEN net_units > 0 THEN 1 ELSE 0 END) AS distinct_items,
    SUM(net_units) AS units,
    SUM(net_units * cart_price) AS cart_value
  FROM "int_cart_lines"
  GROUP BY event_date, user_pseudo_id, session_id
)
SELECT
  f.*,
  COALESCE(c.distinct_items, 0) AS distinct_items,
  COALESCE(c.units, 0) AS units,
  COALESCE(c.cart_value, 0) AS cart_value,
  -- An abandoned cart: an add_to_cart, no purchase, and net units > 0 for an item at the end.
  f.has_add_to_cart AND NOT f.has_purchase AND COALESCE(c.units, 0) > 0 AS is_abandoned,
  -- The same user bought later that day: remarketing suppresses the cart.
  COALESCE(p.last_purchase_ts > f.last_cart_event_ts, FALSE) AS purchased_later
FROM flags AS f
LEFT JOIN carts AS c
  ON c.event_date = f.event_date AND c.user_pseudo_id = f.user_pseudo_id AND c.session_id = f.session_id
LEFT JOIN purchases AS p
  ON p.event_date = f.event_date AND p.user_pseudo_id = f.user_pseudo_id;
