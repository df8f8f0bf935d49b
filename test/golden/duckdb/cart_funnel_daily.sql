CREATE OR REPLACE TEMP TABLE "_new_cart_funnel_daily" AS
WITH sessions AS (
  SELECT
    event_date,
    COUNT(*) AS sessions,
    SUM(CASE WHEN has_view_item THEN 1 ELSE 0 END) AS sessions_with_view_item,
    SUM(CASE WHEN has_add_to_cart THEN 1 ELSE 0 END) AS sessions_with_add_to_cart,
    SUM(CASE WHEN has_begin_checkout THEN 1 ELSE 0 END) AS sessions_with_begin_checkout,
    SUM(CASE WHEN has_purchase THEN 1 ELSE 0 END) AS sessions_with_purchase,
    SUM(CASE WHEN is_abandoned THEN 1 ELSE 0 END) AS abandoned_carts,
    SUM(CASE WHEN is_abandoned THEN cart_value ELSE 0 END) AS abandoned_value
  FROM "int_sessions"
  GROUP BY event_date
),
transactions AS (
  SELECT event_date, COUNT(*) AS purchases, SUM(revenue) AS revenue
  FROM "int_transactions"
  GROUP BY event_date
)
SELECT
  s.event_date AS date,
  s.sessions,
  s.sessions_with_view_item,
  s.sessions_with_add_to_cart,
  s.sessions_with_begin_checkout,
  s.sessions_with_purchase,
  s.abandoned_carts,
  CASE WHEN CAST(s.sessions_with_add_to_cart AS HUGEINT) = 0 THEN NULL ELSE CAST(CAST((CAST(s.abandoned_carts AS HUGEINT) * 20000 + CAST(s.sessions_with_add_to_cart AS HUGEINT)) // (2 * CAST(s.sessions_with_add_to_cart AS HUGEINT)) AS DECIMAL(38,0)) * CAST(0.0001 AS DECIMAL(5,4)) AS DECIMAL(38,4)) END AS cart_abandonment_rate,
  COALESCE(t.purchases, 0) AS purchases,
  CAST(ROUND(CAST(COALESCE(t.revenue, 0) AS DECIMAL(38,9)), 2) AS DECIMAL(38,2)) AS revenue,
  CAST(ROUND(CAST(s.abandoned_value AS DECIMAL(38,9)), 2) AS DECIMAL(38,2)) AS abandoned_value
FROM sessions AS s
LEFT JOIN transactions AS t ON t.event_date = s.event_date;

CREATE TABLE IF NOT EXISTS "cart_funnel_daily" AS SELECT * FROM "_new_cart_funnel_daily" WHERE false;

DELETE FROM "cart_funnel_daily" WHERE date IN (DATE '2026-11-01');

INSERT INTO "cart_funnel_daily" BY NAME SELECT * FROM "_new_cart_funnel_daily";
