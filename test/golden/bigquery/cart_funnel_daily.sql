CREATE TEMP TABLE `_new_cart_funnel_daily` AS
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
  FROM `int_sessions`
  GROUP BY event_date
),
transactions AS (
  SELECT event_date, COUNT(*) AS purchases, SUM(revenue) AS revenue
  FROM `int_transactions`
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
  IF(CAST(s.sessions_with_add_to_cart AS NUMERIC) = 0, NULL, DIV(CAST(s.abandoned_carts AS NUMERIC) * 20000 + CAST(s.sessions_with_add_to_cart AS NUMERIC), 2 * CAST(s.sessions_with_add_to_cart AS NUMERIC)) / 10000) AS cart_abandonment_rate,
  COALESCE(t.purchases, 0) AS purchases,
  ROUND(CAST(COALESCE(t.revenue, 0) AS NUMERIC), 2) AS revenue,
  ROUND(CAST(s.abandoned_value AS NUMERIC), 2) AS abandoned_value
FROM sessions AS s
LEFT JOIN transactions AS t ON t.event_date = s.event_date;

DELETE FROM `my-project.cartlens_marts.cart_funnel_daily` WHERE date IN (DATE '2026-11-01');

INSERT INTO `my-project.cartlens_marts.cart_funnel_daily` SELECT * FROM `_new_cart_funnel_daily`;
