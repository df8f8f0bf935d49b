DELETE FROM "run_state" WHERE source IN ('ga4-export:shop', 'local:in/*.json') AND date = DATE '2026-11-01';

INSERT INTO "run_state" VALUES ('ga4-export:shop', DATE '2026-11-01', 'complete', '20261102T060000Z-abc123', TIMESTAMP '2026-11-02 06:00:00.000', TIMESTAMP '2026-11-02 06:01:02.345', 'abc', '{"cart_funnel_daily":1}', true, NULL, 'daily');

DELETE FROM "run_state" WHERE source IN ('ga4-export:shop') AND date = DATE '2026-11-01';

INSERT INTO "run_state" VALUES ('ga4-export:shop', DATE '2026-11-01', 'failed', '20261102T060000Z-abc123', TIMESTAMP '2026-11-02 06:00:00.000', TIMESTAMP '2026-11-02 06:01:02.345', NULL, '{"cart_funnel_daily":1}', true, 'it''s ''failed''', 'intraday');

SELECT * FROM "run_state" WHERE source IN ('ga4-export:shop', 'local:in/*.json') ORDER BY date;

SELECT DISTINCT CAST(date AS VARCHAR) AS date FROM "cart_funnel_daily" WHERE date IN (DATE '2026-11-01', DATE '2026-11-02');

SELECT * FROM "quality_daily" WHERE date = DATE '2026-11-01';

INSERT INTO "runs" VALUES ('20261102T060000Z-abc123', TIMESTAMP '2026-11-02 06:00:00.000', TIMESTAMP '2026-11-02 06:01:00.500', '2026-11-01,2026-11-02', 'GA4 export', 2);

DELETE FROM "assertion_results" WHERE date IN (DATE '2026-11-01', DATE '2026-11-02');

INSERT INTO "assertion_results" VALUES ('20261102T060000Z-abc123', DATE '2026-11-01', 'cart_funnel_daily', 'cart_funnel_daily__unique_1', 'error', true, 0, NULL), ('20261102T060000Z-abc123', DATE '2026-11-02', 'cart_funnel_daily', 'cart_funnel_daily__unique_1', 'error', true, 1, '[{"date":"2026-11-02","copies":"2"}]');

DELETE FROM "assertion_results" WHERE date IN (DATE '2026-11-01', DATE '2026-11-02');

SELECT DISTINCT CAST(date AS VARCHAR) AS date FROM "published_sessions" WHERE source = 'ga4-export:shop';

SELECT sha256 FROM "read_inputs" WHERE source = 'ga4-export:shop';

INSERT INTO "read_inputs" VALUES ('ga4-export:shop', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', '20261102T060000Z-abc123'), ('ga4-export:shop', 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', '20261102T060000Z-abc123');

SELECT CAST(date AS VARCHAR) AS date, lines FROM "quality_daily" WHERE date IN (DATE '2026-11-01', DATE '2026-11-02');

DELETE FROM "late_lines" WHERE source = 'ga4-export:shop' AND date IN (DATE '2026-11-01', DATE '2026-11-02');

INSERT INTO "late_lines" VALUES ('ga4-export:shop', DATE '2026-11-01', '20261102T060000Z-abc123', 'in/a.json', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 3), ('ga4-export:shop', DATE '2026-11-02', '20261102T060000Z-abc123', 'events_20261102', NULL, 1);

SELECT CAST(date AS VARCHAR) AS date, source_file, lines FROM "late_lines" WHERE source = 'ga4-export:shop' ORDER BY date, source_file;

SELECT CAST(date AS VARCHAR) AS date, SUM("sessions") AS value FROM "cart_funnel_daily" WHERE date IN (DATE '2026-11-01', DATE '2026-11-02') GROUP BY date;

SELECT CAST(date AS VARCHAR) AS date, sessions FROM "published_sessions" WHERE source = 'ga4-export:shop' AND date IN (DATE '2026-11-01', DATE '2026-11-02');

DELETE FROM "published_sessions" WHERE source = 'ga4-export:shop' AND date = DATE '2026-11-01';

INSERT INTO "published_sessions" VALUES ('ga4-export:shop', DATE '2026-11-01', '20261102T060000Z-abc123', 42);

SELECT fingerprint FROM "user_key_fingerprint";

DELETE FROM "user_key_fingerprint" WHERE TRUE;

INSERT INTO "user_key_fingerprint" VALUES ('ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', '20261102T060000Z-abc123');

DELETE FROM "ga4_api_pages" WHERE date < DATE '2026-08-04';

DELETE FROM "quarantined_events" WHERE event_date < DATE '2026-10-03' OR (event_date IS NULL AND run_id IN (SELECT run_id FROM "runs" WHERE committed_at < TIMESTAMP '2026-10-03 12:00:00.000'));

DELETE FROM "stg_events" WHERE event_date < DATE '2026-10-26';

DELETE FROM "stg_event_items" WHERE event_date < DATE '2026-10-26';

DELETE FROM "recovery_carts" WHERE date < DATE '2026-10-26';

SELECT
      (SELECT SUM(add_to_cart_units) FROM "cart_items_daily" WHERE date = DATE '2026-11-01') AS export_add_to_cart_units,
      (SELECT SUM(purchased_units) FROM "cart_items_daily" WHERE date = DATE '2026-11-01') AS export_purchased_units,
      (SELECT SUM(purchases) FROM "cart_funnel_daily" WHERE date = DATE '2026-11-01') AS export_purchases,
      (SELECT SUM(revenue) FROM "cart_funnel_daily" WHERE date = DATE '2026-11-01') AS export_revenue,
      (SELECT SUM(items_added_to_cart) FROM "ga4_api_items_daily" WHERE date = DATE '2026-11-01') AS api_add_to_cart_units,
      (SELECT SUM(items_purchased) FROM "ga4_api_items_daily" WHERE date = DATE '2026-11-01') AS api_purchased_units,
      (SELECT SUM(ecommerce_purchases) FROM "ga4_api_funnel_daily" WHERE date = DATE '2026-11-01') AS api_purchases,
      (SELECT SUM(purchase_revenue) FROM "ga4_api_funnel_daily" WHERE date = DATE '2026-11-01') AS api_revenue;

CREATE OR REPLACE TEMP TABLE "_before_abandoned_carts" AS
SELECT * FROM "abandoned_carts" WHERE date IN (DATE '2026-11-01', DATE '2026-11-02');

SELECT CAST("date" AS VARCHAR) AS "date", CAST("sessions" AS VARCHAR) AS "sessions", CAST("sessions_with_view_item" AS VARCHAR) AS "sessions_with_view_item", CAST("sessions_with_add_to_cart" AS VARCHAR) AS "sessions_with_add_to_cart", CAST("sessions_with_begin_checkout" AS VARCHAR) AS "sessions_with_begin_checkout", CAST("sessions_with_purchase" AS VARCHAR) AS "sessions_with_purchase", CAST("abandoned_carts" AS VARCHAR) AS "abandoned_carts", CAST("cart_abandonment_rate" AS VARCHAR) AS "cart_abandonment_rate", CAST("purchases" AS VARCHAR) AS "purchases", CAST("revenue" AS VARCHAR) AS "revenue", CAST("abandoned_value" AS VARCHAR) AS "abandoned_value" FROM "_before_cart_funnel_daily" AS t WHERE t.date IN (DATE '2026-11-01', DATE '2026-11-02') ORDER BY "date";

SELECT CAST("date" AS VARCHAR) AS "date", CAST("sessions" AS VARCHAR) AS "sessions", CAST("sessions_with_view_item" AS VARCHAR) AS "sessions_with_view_item", CAST("sessions_with_add_to_cart" AS VARCHAR) AS "sessions_with_add_to_cart", CAST("sessions_with_begin_checkout" AS VARCHAR) AS "sessions_with_begin_checkout", CAST("sessions_with_purchase" AS VARCHAR) AS "sessions_with_purchase", CAST("abandoned_carts" AS VARCHAR) AS "abandoned_carts", CAST("cart_abandonment_rate" AS VARCHAR) AS "cart_abandonment_rate", CAST("purchases" AS VARCHAR) AS "purchases", CAST("revenue" AS VARCHAR) AS "revenue", CAST("abandoned_value" AS VARCHAR) AS "abandoned_value" FROM "cart_funnel_daily" AS t WHERE t.date IN (DATE '2026-11-01', DATE '2026-11-02') ORDER BY "date";

SELECT COALESCE(b."c_date", a."c_date") AS date,
  SUM(CASE WHEN b.present IS NULL THEN 1 ELSE 0 END) AS rows_added,
  SUM(CASE WHEN a.present IS NULL THEN 1 ELSE 0 END) AS rows_removed,
  SUM(CASE WHEN b.present IS NOT NULL AND a.present IS NOT NULL AND (b."c_first_add_at" <> a."c_first_add_at" OR b."c_last_cart_event_at" <> a."c_last_cart_event_at" OR b."c_reached_checkout" <> a."c_reached_checkout" OR b."c_distinct_items" <> a."c_distinct_items" OR b."c_units" <> a."c_units" OR b."c_cart_value" <> a."c_cart_value" OR b."c_device_category" <> a."c_device_category" OR b."c_country" <> a."c_country" OR b."c_source" <> a."c_source" OR b."c_medium" <> a."c_medium" OR b."c_purchased_later" <> a."c_purchased_later" OR b."c_ads_consent" <> a."c_ads_consent") THEN 1 ELSE 0 END) AS rows_changed,
  SUM(CASE WHEN b.present IS NULL THEN 0 ELSE 1 END) AS rows_before,
  SUM(CASE WHEN a.present IS NULL THEN 0 ELSE 1 END) AS rows_after,
  CAST(COALESCE(SUM(b."v_distinct_items"), 0) AS VARCHAR) AS "before_distinct_items",
  CAST(COALESCE(SUM(a."v_distinct_items"), 0) AS VARCHAR) AS "after_distinct_items",
  CAST(COALESCE(SUM(b."v_units"), 0) AS VARCHAR) AS "before_units",
  CAST(COALESCE(SUM(a."v_units"), 0) AS VARCHAR) AS "after_units",
  CAST(COALESCE(SUM(b."v_cart_value"), 0) AS VARCHAR) AS "before_cart_value",
  CAST(COALESCE(SUM(a."v_cart_value"), 0) AS VARCHAR) AS "after_cart_value"
FROM (SELECT COALESCE(CAST(t."date" AS VARCHAR), '') AS "c_date", COALESCE(CAST(t."user_key" AS VARCHAR), '') AS "c_user_key", COALESCE(CAST(t."session_id" AS VARCHAR), '') AS "c_session_id", COALESCE(strftime(t."first_add_at", '%Y-%m-%dT%H:%M:%S.%gZ'), '') AS "c_first_add_at", COALESCE(strftime(t."last_cart_event_at", '%Y-%m-%dT%H:%M:%S.%gZ'), '') AS "c_last_cart_event_at", COALESCE(CAST(t."reached_checkout" AS VARCHAR), '') AS "c_reached_checkout", COALESCE(CAST(t."distinct_items" AS VARCHAR), '') AS "c_distinct_items", COALESCE(CAST(t."units" AS VARCHAR), '') AS "c_units", COALESCE(CAST(t."cart_value" AS VARCHAR), '') AS "c_cart_value", COALESCE(CAST(t."device_category" AS VARCHAR), '') AS "c_device_category", COALESCE(CAST(t."country" AS VARCHAR), '') AS "c_country", COALESCE(CAST(t."source" AS VARCHAR), '') AS "c_source", COALESCE(CAST(t."medium" AS VARCHAR), '') AS "c_medium", COALESCE(CAST(t."purchased_later" AS VARCHAR), '') AS "c_purchased_later", COALESCE(CAST(t."ads_consent" AS VARCHAR), '') AS "c_ads_consent", t."distinct_items" AS "v_distinct_items", t."units" AS "v_units", t."cart_value" AS "v_cart_value", 1 AS present FROM "_before_abandoned_carts" AS t WHERE t.date IN (DATE '2026-11-01', DATE '2026-11-02')) AS b
FULL OUTER JOIN (SELECT COALESCE(CAST(t."date" AS VARCHAR), '') AS "c_date", COALESCE(CAST(t."user_key" AS VARCHAR), '') AS "c_user_key", COALESCE(CAST(t."session_id" AS VARCHAR), '') AS "c_session_id", COALESCE(strftime(t."first_add_at", '%Y-%m-%dT%H:%M:%S.%gZ'), '') AS "c_first_add_at", COALESCE(strftime(t."last_cart_event_at", '%Y-%m-%dT%H:%M:%S.%gZ'), '') AS "c_last_cart_event_at", COALESCE(CAST(t."reached_checkout" AS VARCHAR), '') AS "c_reached_checkout", COALESCE(CAST(t."distinct_items" AS VARCHAR), '') AS "c_distinct_items", COALESCE(CAST(t."units" AS VARCHAR), '') AS "c_units", COALESCE(CAST(t."cart_value" AS VARCHAR), '') AS "c_cart_value", COALESCE(CAST(t."device_category" AS VARCHAR), '') AS "c_device_category", COALESCE(CAST(t."country" AS VARCHAR), '') AS "c_country", COALESCE(CAST(t."source" AS VARCHAR), '') AS "c_source", COALESCE(CAST(t."medium" AS VARCHAR), '') AS "c_medium", COALESCE(CAST(t."purchased_later" AS VARCHAR), '') AS "c_purchased_later", COALESCE(CAST(t."ads_consent" AS VARCHAR), '') AS "c_ads_consent", t."distinct_items" AS "v_distinct_items", t."units" AS "v_units", t."cart_value" AS "v_cart_value", 1 AS present FROM "abandoned_carts" AS t WHERE t.date IN (DATE '2026-11-01', DATE '2026-11-02')) AS a ON b."c_date" = a."c_date" AND b."c_user_key" = a."c_user_key" AND b."c_session_id" = a."c_session_id"
GROUP BY 1;

INSERT INTO "restatements" VALUES (DATE '2026-11-01', 'cart_funnel_daily', '20261102T060000Z-abc123', '20261101T060000Z-def456', 0, 'sessions', '3069', '3081'), (DATE '2026-11-01', 'cart_funnel_daily', '20261102T060000Z-abc123', NULL, 1, 'cart_abandonment_rate', NULL, '0.5000');

SELECT CAST(date AS VARCHAR) AS date, run_id FROM "published_sessions" WHERE source = 'ga4-export:shop' AND date IN (DATE '2026-11-01', DATE '2026-11-02');

SELECT CAST(date AS VARCHAR) AS date, table_name, MAX(run_id) AS run_id FROM "restatements" WHERE date IN (DATE '2026-11-01', DATE '2026-11-02') GROUP BY date, table_name;

SELECT CAST(date AS VARCHAR) AS date, table_name, run_id, previous_run_id, column_name, before, after FROM "restatements" ORDER BY run_id, seq
