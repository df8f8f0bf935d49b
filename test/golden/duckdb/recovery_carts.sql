CREATE OR REPLACE TEMP TABLE "_new_recovery_carts" AS
SELECT
  s.event_date AS date,
  s.user_pseudo_id,
  s.session_id,
  s.last_cart_event_ts,
  CAST(ROUND(CAST(s.cart_value AS DECIMAL(38,9)), 2) AS DECIMAL(38,2)) AS cart_value,
  l.item_id
FROM "int_sessions" AS s
JOIN "int_cart_lines" AS l
  ON l.event_date = s.event_date AND l.user_pseudo_id = s.user_pseudo_id AND l.session_id = s.session_id
WHERE s.is_abandoned AND l.net_units > 0;

CREATE TABLE IF NOT EXISTS "recovery_carts" AS SELECT * FROM "_new_recovery_carts" WHERE false;

DELETE FROM "recovery_carts" WHERE date IN (DATE '2026-11-01');

INSERT INTO "recovery_carts" BY NAME SELECT * FROM "_new_recovery_carts";
