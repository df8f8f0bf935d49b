CREATE OR REPLACE TEMP TABLE "_new_ga4_api_funnel_daily" AS
SELECT
  date,
  device_category,
  country,
  session_source_medium,
  CAST(sessions AS BIGINT) AS sessions,
  CAST(add_to_carts AS BIGINT) AS add_to_carts,
  CAST(checkouts AS BIGINT) AS checkouts,
  CAST(ecommerce_purchases AS BIGINT) AS ecommerce_purchases,
  CAST(ROUND(CAST(purchase_revenue AS DECIMAL(38,9)), 2) AS DECIMAL(38,2)) AS purchase_revenue,
  CAST(total_purchasers AS BIGINT) AS total_purchasers
FROM "raw_ga4_api_funnel"
WHERE date IN (DATE '2026-11-01');

CREATE TABLE IF NOT EXISTS "ga4_api_funnel_daily" AS SELECT * FROM "_new_ga4_api_funnel_daily" WHERE false;

DELETE FROM "ga4_api_funnel_daily" WHERE date IN (DATE '2026-11-01');

INSERT INTO "ga4_api_funnel_daily" BY NAME SELECT * FROM "_new_ga4_api_funnel_daily";
