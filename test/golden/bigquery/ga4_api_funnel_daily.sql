CREATE TEMP TABLE `_new_ga4_api_funnel_daily` AS
SELECT
  date,
  device_category,
  country,
  session_source_medium,
  CAST(sessions AS BIGINT) AS sessions,
  CAST(add_to_carts AS BIGINT) AS add_to_carts,
  CAST(checkouts AS BIGINT) AS checkouts,
  CAST(ecommerce_purchases AS BIGINT) AS ecommerce_purchases,
  ROUND(CAST(purchase_revenue AS NUMERIC), 2) AS purchase_revenue,
  CAST(total_purchasers AS BIGINT) AS total_purchasers
FROM `my-project.cartlens_staging.raw_ga4_api_funnel`
WHERE date IN (DATE '2026-11-01');

DELETE FROM `my-project.cartlens_marts.ga4_api_funnel_daily` WHERE date IN (DATE '2026-11-01');

INSERT INTO `my-project.cartlens_marts.ga4_api_funnel_daily` SELECT * FROM `_new_ga4_api_funnel_daily`;
