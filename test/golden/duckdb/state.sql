DELETE FROM "run_state" WHERE source IN ('ga4-export:shop', 'local:in/*.json') AND date = DATE '2026-11-01';

INSERT INTO "run_state" VALUES ('ga4-export:shop', DATE '2026-11-01', 'complete', '20261102T060000Z-abc123', TIMESTAMP '2026-11-02 06:00:00.000', TIMESTAMP '2026-11-02 06:01:02.345', 'abc', '{"cart_funnel_daily":1}', true, NULL);

DELETE FROM "run_state" WHERE source IN ('ga4-export:shop') AND date = DATE '2026-11-01';

INSERT INTO "run_state" VALUES ('ga4-export:shop', DATE '2026-11-01', 'failed', '20261102T060000Z-abc123', TIMESTAMP '2026-11-02 06:00:00.000', TIMESTAMP '2026-11-02 06:01:02.345', NULL, '{"cart_funnel_daily":1}', true, 'it''s ''failed''');

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
      (SELECT SUM(purchase_revenue) FROM "ga4_api_funnel_daily" WHERE date = DATE '2026-11-01') AS api_revenue
