CREATE TEMP TABLE `_new_abandoned_carts` AS
SELECT
  event_date AS date,
  TO_HEX(SHA256(CONCAT(@cartlens_user_key_opad, SHA256(CONCAT(@cartlens_user_key_ipad, CAST(user_pseudo_id AS BYTES)))))) AS user_key,
  session_id,
  TIMESTAMP_MILLIS(DIV(first_add_ts, 1000)) AS first_add_at,
  TIMESTAMP_MILLIS(DIV(last_cart_event_ts, 1000)) AS last_cart_event_at,
  has_begin_checkout AS reached_checkout,
  distinct_items,
  units,
  ROUND(CAST(cart_value AS NUMERIC), 2) AS cart_value,
  device_category,
  country,
  source,
  medium,
  purchased_later,
  CASE ads_storage WHEN 'Yes' THEN 'granted' WHEN 'No' THEN 'denied' END AS ads_consent
FROM `int_sessions`
WHERE is_abandoned;

DELETE FROM `my-project.cartlens_marts.abandoned_carts` WHERE date IN (DATE '2026-11-01');

INSERT INTO `my-project.cartlens_marts.abandoned_carts` SELECT * FROM `_new_abandoned_carts`;
