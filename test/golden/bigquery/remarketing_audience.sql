CREATE TEMP TABLE `_new_remarketing_audience` AS
SELECT date, user_key, session_id, cart_value, distinct_items, last_cart_event_at
FROM `my-project.cartlens_marts.abandoned_carts`
WHERE date IN (DATE '2026-11-01') AND NOT purchased_later AND ads_consent = 'granted';

DELETE FROM `my-project.cartlens_marts.remarketing_audience` WHERE date IN (DATE '2026-11-01');

INSERT INTO `my-project.cartlens_marts.remarketing_audience` SELECT * FROM `_new_remarketing_audience`;
