CREATE OR REPLACE TEMP TABLE "_new_abandoned_carts" AS
SELECT
  event_date AS date,
  sha256(getvariable('cartlens_user_key_opad') || unhex(sha256(getvariable('cartlens_user_key_ipad') || encode(user_pseudo_id)))) AS user_key,
  session_id,
  make_timestamp(((first_add_ts) // 1000) * 1000) AS first_add_at,
  make_timestamp(((last_cart_event_ts) // 1000) * 1000) AS last_cart_event_at,
  has_begin_checkout AS reached_checkout,
  distinct_items,
  units,
  CAST(ROUND(CAST(cart_value AS DECIMAL(38,9)), 2) AS DECIMAL(38,2)) AS cart_value,
  device_category,
  country,
  source,
  medium,
  purchased_later,
  CASE ads_storage WHEN 'Yes' THEN 'granted' WHEN 'No' THEN 'denied' END AS ads_consent
FROM "int_sessions"
WHERE is_abandoned;

CREATE TABLE IF NOT EXISTS "abandoned_carts" AS SELECT * FROM "_new_abandoned_carts" WHERE false;

DELETE FROM "abandoned_carts" WHERE date IN (DATE '2026-11-01');

INSERT INTO "abandoned_carts" BY NAME SELECT * FROM "_new_abandoned_carts";
