-- materialized: partitioned
-- reach: -1, 16
-- description: One row per abandoned cart that its user bought within 14 days, on the date of the purchase. Computed for the run's dates and the dates their carts can reach (the one before, the 16 after), from the carts of the 16 dates before each and the one after, and the purchases one date further each way.
-- assert unique: date, cart_date, user_key, session_id
-- assert not_null: date, cart_date, user_key, session_id, recovered_at, hours_to_recovery, same_item
-- assert row: hours_to_recovery >= 0 AND hours_to_recovery <= 336 AND recovered_at >= last_cart_event_at
WITH cart_items AS (
  -- Every read is of a constant list of dates: BigQuery scans only those partitions.
  SELECT date AS cart_date, user_pseudo_id, session_id, last_cart_event_ts, cart_value, item_id
  FROM {{ ref('recovery_carts') }}
  WHERE date IN {{ run_dates_around(-16, 1) }}
),
carts AS (
  SELECT DISTINCT cart_date, user_pseudo_id, session_id, last_cart_event_ts, cart_value
  FROM cart_items
),
purchases AS (
  -- Included purchases (in a session), full precision; ties on timestamp go to the first in input order.
  SELECT event_date, input_seq, user_pseudo_id, event_ts, transaction_id, purchase_revenue
  FROM {{ ref('stg_events') }}
  WHERE event_date IN {{ run_dates_around(-17, 2) }} AND event_name = 'purchase' AND session_id IS NOT NULL
),
firsts AS (
  -- Each cart's first purchase by its user later than its last cart event and at most 14 days later.
  SELECT
    c.cart_date, c.user_pseudo_id, c.session_id, c.last_cart_event_ts, c.cart_value,
    p.event_date, p.input_seq, p.event_ts, p.transaction_id, p.purchase_revenue,
    ROW_NUMBER() OVER (PARTITION BY c.cart_date, c.user_pseudo_id, c.session_id ORDER BY p.event_ts, p.event_date, p.input_seq) AS nth
  FROM carts AS c
  JOIN purchases AS p
    -- An equality join on the user, then the time rule on the difference: one range condition
    -- pair would let DuckDB pick a range join (IEJoin) over every cart and purchase.
    ON p.user_pseudo_id = c.user_pseudo_id
    AND p.event_ts - c.last_cart_event_ts BETWEEN 1 AND 1209600000000
),
bought AS (
  SELECT DISTINCT event_date, input_seq, item_id
  FROM {{ ref('stg_event_items') }}
  WHERE event_date IN {{ run_dates }} AND item_id IS NOT NULL
),
same_item AS (
  -- The recovering purchase holds an item left in the cart: a (cart, item) pair found on both
  -- sides. Grouped, not joined three ways, so no plan can pair every cart item with every bought one.
  SELECT DISTINCT cart_date, user_pseudo_id, session_id
  FROM (
    SELECT cart_date, user_pseudo_id, session_id, item_id, 1 AS in_cart, 0 AS in_purchase
    FROM cart_items
    UNION ALL
    SELECT f.cart_date, f.user_pseudo_id, f.session_id, b.item_id, 0 AS in_cart, 1 AS in_purchase
    FROM firsts AS f
    JOIN bought AS b ON b.event_date = f.event_date AND b.input_seq = f.input_seq
    WHERE f.nth = 1
  ) AS pairs
  GROUP BY cart_date, user_pseudo_id, session_id, item_id
  HAVING MAX(in_cart) = 1 AND MAX(in_purchase) = 1
)
SELECT
  f.event_date AS date,
  f.cart_date,
  {{ user_key(f.user_pseudo_id) }} AS user_key,
  f.session_id,
  f.cart_value,
  {{ timestamp_millis(f.last_cart_event_ts) }} AS last_cart_event_at,
  {{ timestamp_millis(f.event_ts) }} AS recovered_at,
  {{ hours_between(f.last_cart_event_ts, f.event_ts) }} AS hours_to_recovery,
  s.session_id IS NOT NULL AS same_item,
  f.transaction_id,
  {{ money(COALESCE(f.purchase_revenue, 0)) }} AS purchase_revenue
FROM firsts AS f
LEFT JOIN same_item AS s
  ON s.cart_date = f.cart_date AND s.user_pseudo_id = f.user_pseudo_id AND s.session_id = f.session_id
WHERE f.nth = 1 AND f.event_date IN {{ run_dates }}
