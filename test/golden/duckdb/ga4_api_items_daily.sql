CREATE OR REPLACE TEMP TABLE "_new_ga4_api_items_daily" AS
SELECT
  date,
  item_id,
  item_name,
  item_category,
  CAST(items_viewed AS BIGINT) AS items_viewed,
  CAST(items_added_to_cart AS BIGINT) AS items_added_to_cart,
  CAST(items_checked_out AS BIGINT) AS items_checked_out,
  CAST(items_purchased AS BIGINT) AS items_purchased,
  CAST(ROUND(CAST(item_revenue AS DECIMAL(38,9)), 2) AS DECIMAL(38,2)) AS item_revenue,
  CASE WHEN CAST(CAST(items_added_to_cart AS BIGINT) AS HUGEINT) = 0 THEN NULL ELSE CAST(CAST((CAST(CAST(items_purchased AS BIGINT) AS HUGEINT) * 20000 + CAST(CAST(items_added_to_cart AS BIGINT) AS HUGEINT)) // (2 * CAST(CAST(items_added_to_cart AS BIGINT) AS HUGEINT)) AS DECIMAL(38,0)) * CAST(0.0001 AS DECIMAL(5,4)) AS DECIMAL(38,4)) END AS cart_to_purchase_rate
FROM "raw_ga4_api_items"
WHERE date IN (DATE '2026-11-01');

CREATE TABLE IF NOT EXISTS "ga4_api_items_daily" AS SELECT * FROM "_new_ga4_api_items_daily" WHERE false;

DELETE FROM "ga4_api_items_daily" WHERE date IN (DATE '2026-11-01');

INSERT INTO "ga4_api_items_daily" BY NAME SELECT * FROM "_new_ga4_api_items_daily";
