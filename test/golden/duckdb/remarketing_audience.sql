CREATE OR REPLACE TEMP TABLE "_new_remarketing_audience" AS
SELECT date, user_key, session_id, cart_value, distinct_items, last_cart_event_at
FROM "abandoned_carts"
WHERE date IN (DATE '2026-11-01') AND NOT purchased_later AND ads_consent = 'granted';

CREATE TABLE IF NOT EXISTS "remarketing_audience" AS SELECT * FROM "_new_remarketing_audience" WHERE false;

DELETE FROM "remarketing_audience" WHERE date IN (DATE '2026-11-01');

INSERT INTO "remarketing_audience" BY NAME SELECT * FROM "_new_remarketing_audience";
