CREATE TEMP TABLE `int_sessions` AS
WITH events AS (
  SELECT *
  FROM `my-project.cartlens_staging.stg_events`
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
    ARRAY_AGG(STRUCT(device_category AS value) ORDER BY event_ts, input_seq LIMIT 1)[OFFSET(0)].value AS device_category,
    ARRAY_AGG(STRUCT(country AS value) ORDER BY event_ts, input_seq LIMIT 1)[OFFSET(0)].value AS country,
    ARRAY_AGG(STRUCT(source AS value) ORDER BY event_ts, input_seq LIMIT 1)[OFFSET(0)].value AS source,
    ARRAY_AGG(STRUCT(medium AS value) ORDER BY event_ts, input_seq LIMIT 1)[OFFSET(0)].value AS medium,
    -- Consent mode: the latest event (by timestamp, then input order) that says Yes or No.
    ARRAY_AGG(ads_storage IGNORE NULLS ORDER BY event_ts DESC, input_seq DESC LIMIT 1)[SAFE_OFFSET(0)] AS ads_storage
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
  FROM `int_cart_lines`
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
