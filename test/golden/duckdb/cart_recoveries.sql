CREATE OR REPLACE TEMP TABLE "_new_cart_recoveries" AS
WITH cart_items AS (
  -- Every read is of a constant list of dates: BigQuery scans only those partitions.
  SELECT date AS cart_date, user_pseudo_id, session_id, last_cart_event_ts, cart_value, item_id
  FROM "recovery_carts"
  WHERE date IN (DATE '2026-10-15', DATE '2026-10-16', DATE '2026-10-17', DATE '2026-10-18', DATE '2026-10-19', DATE '2026-10-20', DATE '2026-10-21', DATE '2026-10-22', DATE '2026-10-23', DATE '2026-10-24', DATE '2026-10-25', DATE '2026-10-26', DATE '2026-10-27', DATE '2026-10-28', DATE '2026-10-29', DATE '2026-10-30', DATE '2026-10-31', DATE '2026-11-01', DATE '2026-11-02', DATE '2026-11-03', DATE '2026-11-04', DATE '2026-11-05', DATE '2026-11-06', DATE '2026-11-07', DATE '2026-11-08', DATE '2026-11-09', DATE '2026-11-10', DATE '2026-11-11', DATE '2026-11-12', DATE '2026-11-13', DATE '2026-11-14', DATE '2026-11-15', DATE '2026-11-16', DATE '2026-11-17', DATE '2026-11-18')
),
carts AS (
  SELECT DISTINCT cart_date, user_pseudo_id, session_id, last_cart_event_ts, cart_value
  FROM cart_items
),
purchases AS (
  -- Included purchases (in a session), full precision; ties on timestamp go to the first in input order.
  SELECT event_date, input_seq, user_pseudo_id, event_ts, transaction_id, purchase_revenue
  FROM "stg_events"
  WHERE event_date IN (DATE '2026-10-14', DATE '2026-10-15', DATE '2026-10-16', DATE '2026-10-17', DATE '2026-10-18', DATE '2026-10-19', DATE '2026-10-20', DATE '2026-10-21', DATE '2026-10-22', DATE '2026-10-23', DATE '2026-10-24', DATE '2026-10-25', DATE '2026-10-26', DATE '2026-10-27', DATE '2026-10-28', DATE '2026-10-29', DATE '2026-10-30', DATE '2026-10-31', DATE '2026-11-01', DATE '2026-11-02', DATE '2026-11-03', DATE '2026-11-04', DATE '2026-11-05', DATE '2026-11-06', DATE '2026-11-07', DATE '2026-11-08', DATE '2026-11-09', DATE '2026-11-10', DATE '2026-11-11', DATE '2026-11-12', DATE '2026-11-13', DATE '2026-11-14', DATE '2026-11-15', DATE '2026-11-16', DATE '2026-11-17', DATE '2026-11-18', DATE '2026-11-19') AND event_name = 'purchase' AND session_id IS NOT NULL
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
  FROM "stg_event_items"
  WHERE event_date IN (DATE '2026-10-31', DATE '2026-11-01', DATE '2026-11-02', DATE '2026-11-03', DATE '2026-11-04', DATE '2026-11-05', DATE '2026-11-06', DATE '2026-11-07', DATE '2026-11-08', DATE '2026-11-09', DATE '2026-11-10', DATE '2026-11-11', DATE '2026-11-12', DATE '2026-11-13', DATE '2026-11-14', DATE '2026-11-15', DATE '2026-11-16', DATE '2026-11-17') AND item_id IS NOT NULL
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
  sha256(getvariable('cartlens_user_key_opad') || unhex(sha256(getvariable('cartlens_user_key_ipad') || encode(f.user_pseudo_id)))) AS user_key,
  f.session_id,
  f.cart_value,
  make_timestamp(((f.last_cart_event_ts) // 1000) * 1000) AS last_cart_event_at,
  make_timestamp(((f.event_ts) // 1000) * 1000) AS recovered_at,
  CAST(CAST(((CAST(f.event_ts AS HUGEINT) - CAST(f.last_cart_event_ts AS HUGEINT)) * 2 + 36000000) // 72000000 AS DECIMAL(38,0)) * CAST(0.01 AS DECIMAL(3,2)) AS DECIMAL(38,2)) AS hours_to_recovery,
  s.session_id IS NOT NULL AS same_item,
  f.transaction_id,
  CAST(ROUND(CAST(COALESCE(f.purchase_revenue, 0) AS DECIMAL(38,9)), 2) AS DECIMAL(38,2)) AS purchase_revenue
FROM firsts AS f
LEFT JOIN same_item AS s
  ON s.cart_date = f.cart_date AND s.user_pseudo_id = f.user_pseudo_id AND s.session_id = f.session_id
WHERE f.nth = 1 AND f.event_date IN (DATE '2026-10-31', DATE '2026-11-01', DATE '2026-11-02', DATE '2026-11-03', DATE '2026-11-04', DATE '2026-11-05', DATE '2026-11-06', DATE '2026-11-07', DATE '2026-11-08', DATE '2026-11-09', DATE '2026-11-10', DATE '2026-11-11', DATE '2026-11-12', DATE '2026-11-13', DATE '2026-11-14', DATE '2026-11-15', DATE '2026-11-16', DATE '2026-11-17');

CREATE TABLE IF NOT EXISTS "cart_recoveries" AS SELECT * FROM "_new_cart_recoveries" WHERE false;

DELETE FROM "cart_recoveries" WHERE date IN (DATE '2026-10-31', DATE '2026-11-01', DATE '2026-11-02', DATE '2026-11-03', DATE '2026-11-04', DATE '2026-11-05', DATE '2026-11-06', DATE '2026-11-07', DATE '2026-11-08', DATE '2026-11-09', DATE '2026-11-10', DATE '2026-11-11', DATE '2026-11-12', DATE '2026-11-13', DATE '2026-11-14', DATE '2026-11-15', DATE '2026-11-16', DATE '2026-11-17');

INSERT INTO "cart_recoveries" BY NAME SELECT * FROM "_new_cart_recoveries";
