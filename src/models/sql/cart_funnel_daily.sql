-- materialized: partitioned
-- description: The cart funnel, one row per date.
-- assert unique: date
-- assert not_null: date, sessions, purchases, revenue, abandoned_value
-- assert row: cart_abandonment_rate IS NULL OR cart_abandonment_rate BETWEEN 0 AND 1
-- assert row: sessions >= sessions_with_add_to_cart AND sessions_with_add_to_cart >= abandoned_carts
-- assert row: sessions >= sessions_with_view_item AND sessions >= sessions_with_begin_checkout AND sessions >= sessions_with_purchase
-- assert row: revenue >= 0 AND abandoned_value >= 0
-- assert volume: SUM(sessions) within 0.5 (warn)
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
  FROM {{ ref('int_sessions') }}
  GROUP BY event_date
),
transactions AS (
  SELECT event_date, COUNT(*) AS purchases, SUM(revenue) AS revenue
  FROM {{ ref('int_transactions') }}
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
  {{ rate(s.abandoned_carts, s.sessions_with_add_to_cart) }} AS cart_abandonment_rate,
  COALESCE(t.purchases, 0) AS purchases,
  {{ money(COALESCE(t.revenue, 0)) }} AS revenue,
  {{ money(s.abandoned_value) }} AS abandoned_value
FROM sessions AS s
LEFT JOIN transactions AS t ON t.event_date = s.event_date
