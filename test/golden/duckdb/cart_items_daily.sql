CREATE OR REPLACE TEMP TABLE "_new_cart_items_daily" AS
WITH item_events AS (
  SELECT * FROM "int_item_events"
),
-- Name and category: the most frequent non-empty value that day; ties: the smallest.
names AS (
  SELECT event_date, item_id, item_name
  FROM (
    SELECT event_date, item_id, item_name,
      ROW_NUMBER() OVER (PARTITION BY event_date, item_id ORDER BY COUNT(*) DESC, item_name) AS position
    FROM item_events
    WHERE item_name IS NOT NULL
    GROUP BY event_date, item_id, item_name
  ) AS ranked
  WHERE position = 1
),
categories AS (
  SELECT event_date, item_id, item_category
  FROM (
    SELECT event_date, item_id, item_category,
      ROW_NUMBER() OVER (PARTITION BY event_date, item_id ORDER BY COUNT(*) DESC, item_category) AS position
    FROM item_events
    WHERE item_category IS NOT NULL
    GROUP BY event_date, item_id, item_category
  ) AS ranked
  WHERE position = 1
),
activity AS (
  SELECT
    event_date, item_id,
    -- A view_item event counts once per item, however often it lists it.
    COUNT(DISTINCT CASE WHEN event_name = 'view_item' THEN input_seq END) AS views,
    SUM(CASE WHEN event_name = 'add_to_cart' THEN quantity ELSE 0 END) AS add_to_cart_units,
    SUM(CASE WHEN event_name = 'remove_from_cart' THEN quantity ELSE 0 END) AS remove_from_cart_units
  FROM item_events
  GROUP BY event_date, item_id
),
-- Each transaction counts once: the items of its first purchase event in input order.
purchased AS (
  SELECT
    i.event_date, i.item_id,
    SUM(i.quantity) AS purchased_units,
    SUM(COALESCE(i.item_revenue, COALESCE(i.price, 0) * i.quantity)) AS purchased_revenue
  FROM item_events AS i
  JOIN "int_transactions" AS t
    ON t.event_date = i.event_date AND t.first_input_seq = i.input_seq
  WHERE i.event_name = 'purchase'
  GROUP BY i.event_date, i.item_id
),
abandoned AS (
  SELECT l.event_date, l.item_id, SUM(l.net_units) AS abandoned_units, SUM(l.net_units * l.cart_price) AS abandoned_value
  FROM "int_cart_lines" AS l
  JOIN "int_sessions" AS s
    ON s.event_date = l.event_date AND s.user_pseudo_id = l.user_pseudo_id AND s.session_id = l.session_id
  WHERE s.is_abandoned AND l.net_units > 0
  GROUP BY l.event_date, l.item_id
)
SELECT
  a.event_date AS date,
  a.item_id,
  n.item_name,
  c.item_category,
  a.views,
  a.add_to_cart_units,
  a.remove_from_cart_units,
  COALESCE(p.purchased_units, 0) AS purchased_units,
  CAST(ROUND(CAST(COALESCE(p.purchased_revenue, 0) AS DECIMAL(38,9)), 2) AS DECIMAL(38,2)) AS purchased_revenue,
  CASE WHEN CAST(a.add_to_cart_units AS HUGEINT) = 0 THEN NULL ELSE CAST(CAST((CAST(COALESCE(p.purchased_units, 0) AS HUGEINT) * 20000 + CAST(a.add_to_cart_units AS HUGEINT)) // (2 * CAST(a.add_to_cart_units AS HUGEINT)) AS DECIMAL(38,0)) * CAST(0.0001 AS DECIMAL(5,4)) AS DECIMAL(38,4)) END AS cart_to_purchase_rate,
  COALESCE(ab.abandoned_units, 0) AS abandoned_units,
  CAST(ROUND(CAST(COALESCE(ab.abandoned_value, 0) AS DECIMAL(38,9)), 2) AS DECIMAL(38,2)) AS abandoned_value
FROM activity AS a
LEFT JOIN names AS n ON n.event_date = a.event_date AND n.item_id = a.item_id
LEFT JOIN categories AS c ON c.event_date = a.event_date AND c.item_id = a.item_id
LEFT JOIN purchased AS p ON p.event_date = a.event_date AND p.item_id = a.item_id
LEFT JOIN abandoned AS ab ON ab.event_date = a.event_date AND ab.item_id = a.item_id
WHERE a.views > 0 OR a.add_to_cart_units > 0 OR a.remove_from_cart_units > 0
   OR COALESCE(p.purchased_units, 0) > 0 OR COALESCE(ab.abandoned_units, 0) > 0;

CREATE TABLE IF NOT EXISTS "cart_items_daily" AS SELECT * FROM "_new_cart_items_daily" WHERE false;

DELETE FROM "cart_items_daily" WHERE date IN (DATE '2026-11-01');

INSERT INTO "cart_items_daily" BY NAME SELECT * FROM "_new_cart_items_daily";
