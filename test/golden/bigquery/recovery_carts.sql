CREATE TEMP TABLE `_new_recovery_carts` AS
SELECT
  s.event_date AS date,
  s.user_pseudo_id,
  s.session_id,
  s.last_cart_event_ts,
  ROUND(CAST(s.cart_value AS NUMERIC), 2) AS cart_value,
  l.item_id
FROM `int_sessions` AS s
JOIN `int_cart_lines` AS l
  ON l.event_date = s.event_date AND l.user_pseudo_id = s.user_pseudo_id AND l.session_id = s.session_id
WHERE s.is_abandoned AND l.net_units > 0;

DELETE FROM `my-project.cartlens_staging.recovery_carts` WHERE date IN (DATE '2026-11-01');

INSERT INTO `my-project.cartlens_staging.recovery_carts` SELECT * FROM `_new_recovery_carts`;
