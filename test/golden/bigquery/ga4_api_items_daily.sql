CREATE TEMP TABLE `_new_ga4_api_items_daily` AS
SELECT
  date,
  item_id,
  item_name,
  item_category,
  CAST(items_viewed AS BIGINT) AS items_viewed,
  CAST(items_added_to_cart AS BIGINT) AS items_added_to_cart,
  CAST(items_checked_out AS BIGINT) AS items_checked_out,
  CAST(items_purchased AS BIGINT) AS items_purchased,
  ROUND(CAST(item_revenue AS NUMERIC), 2) AS item_revenue,
  IF(CAST(CAST(items_added_to_cart AS BIGINT) AS NUMERIC) = 0, NULL, DIV(CAST(CAST(items_purchased AS BIGINT) AS NUMERIC) * 20000 + CAST(CAST(items_added_to_cart AS BIGINT) AS NUMERIC), 2 * CAST(CAST(items_added_to_cart AS BIGINT) AS NUMERIC)) / 10000) AS cart_to_purchase_rate
FROM `my-project.cartlens_staging.raw_ga4_api_items`
WHERE date IN (DATE '2026-11-01');

DELETE FROM `my-project.cartlens_marts.ga4_api_items_daily` WHERE date IN (DATE '2026-11-01');

INSERT INTO `my-project.cartlens_marts.ga4_api_items_daily` SELECT * FROM `_new_ga4_api_items_daily`;
