DELETE FROM `my-project.cartlens_staging.run_state` WHERE source IN ('ga4-export:shop', 'local:in/*.json') AND date = DATE '2026-11-01';

INSERT INTO `my-project.cartlens_staging.run_state` VALUES ('ga4-export:shop', DATE '2026-11-01', 'complete', '20261102T060000Z-abc123', TIMESTAMP '2026-11-02 06:00:00.000', TIMESTAMP '2026-11-02 06:01:02.345', 'abc', '{"cart_funnel_daily":1}', true, NULL, 'daily');

DELETE FROM `my-project.cartlens_staging.run_state` WHERE source IN ('ga4-export:shop') AND date = DATE '2026-11-01';

INSERT INTO `my-project.cartlens_staging.run_state` VALUES ('ga4-export:shop', DATE '2026-11-01', 'failed', '20261102T060000Z-abc123', TIMESTAMP '2026-11-02 06:00:00.000', TIMESTAMP '2026-11-02 06:01:02.345', NULL, '{"cart_funnel_daily":1}', true, 'it\'s \'failed\'', 'intraday');

SELECT * FROM `my-project.cartlens_staging.run_state` WHERE source IN ('ga4-export:shop', 'local:in/*.json') ORDER BY date;

SELECT DISTINCT CAST(date AS STRING) AS date FROM `my-project.cartlens_marts.cart_funnel_daily` WHERE date IN (DATE '2026-11-01', DATE '2026-11-02');

SELECT * FROM `my-project.cartlens_staging.quality_daily` WHERE date = DATE '2026-11-01';

INSERT INTO `my-project.cartlens_staging.runs` VALUES ('20261102T060000Z-abc123', TIMESTAMP '2026-11-02 06:00:00.000', TIMESTAMP '2026-11-02 06:01:00.500', '2026-11-01,2026-11-02', 'GA4 export', 2);

DELETE FROM `my-project.cartlens_staging.assertion_results` WHERE date IN (DATE '2026-11-01', DATE '2026-11-02');

INSERT INTO `my-project.cartlens_staging.assertion_results` VALUES ('20261102T060000Z-abc123', DATE '2026-11-01', 'cart_funnel_daily', 'cart_funnel_daily__unique_1', 'error', true, 0, NULL), ('20261102T060000Z-abc123', DATE '2026-11-02', 'cart_funnel_daily', 'cart_funnel_daily__unique_1', 'error', true, 1, '[{"date":"2026-11-02","copies":"2"}]');

DELETE FROM `my-project.cartlens_staging.assertion_results` WHERE date IN (DATE '2026-11-01', DATE '2026-11-02');

SELECT DISTINCT CAST(date AS STRING) AS date FROM `my-project.cartlens_staging.published_sessions` WHERE source = 'ga4-export:shop';

SELECT sha256 FROM `my-project.cartlens_staging.read_inputs` WHERE source = 'ga4-export:shop';

INSERT INTO `my-project.cartlens_staging.read_inputs` VALUES ('ga4-export:shop', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', '20261102T060000Z-abc123'), ('ga4-export:shop', 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', '20261102T060000Z-abc123');

SELECT CAST(date AS STRING) AS date, lines FROM `my-project.cartlens_staging.quality_daily` WHERE date IN (DATE '2026-11-01', DATE '2026-11-02');

DELETE FROM `my-project.cartlens_staging.late_lines` WHERE source = 'ga4-export:shop' AND date IN (DATE '2026-11-01', DATE '2026-11-02');

INSERT INTO `my-project.cartlens_staging.late_lines` VALUES ('ga4-export:shop', DATE '2026-11-01', '20261102T060000Z-abc123', 'in/a.json', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 3), ('ga4-export:shop', DATE '2026-11-02', '20261102T060000Z-abc123', 'events_20261102', NULL, 1);

SELECT CAST(date AS STRING) AS date, source_file, lines FROM `my-project.cartlens_staging.late_lines` WHERE source = 'ga4-export:shop' ORDER BY date, source_file;

SELECT CAST(date AS STRING) AS date, SUM(`sessions`) AS value FROM `my-project.cartlens_marts.cart_funnel_daily` WHERE date IN (DATE '2026-11-01', DATE '2026-11-02') GROUP BY date;

SELECT CAST(date AS STRING) AS date, sessions FROM `my-project.cartlens_staging.published_sessions` WHERE source = 'ga4-export:shop' AND date IN (DATE '2026-11-01', DATE '2026-11-02');

DELETE FROM `my-project.cartlens_staging.published_sessions` WHERE source = 'ga4-export:shop' AND date = DATE '2026-11-01';

INSERT INTO `my-project.cartlens_staging.published_sessions` VALUES ('ga4-export:shop', DATE '2026-11-01', '20261102T060000Z-abc123', 42);

SELECT fingerprint FROM `my-project.cartlens_staging.user_key_fingerprint`;

DELETE FROM `my-project.cartlens_staging.user_key_fingerprint` WHERE TRUE;

INSERT INTO `my-project.cartlens_staging.user_key_fingerprint` VALUES ('ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', '20261102T060000Z-abc123');

DELETE FROM `my-project.cartlens_staging.ga4_api_pages` WHERE date < DATE '2026-08-04';

DELETE FROM `my-project.cartlens_staging.quarantined_events` WHERE event_date < DATE '2026-10-03' OR (event_date IS NULL AND run_id IN (SELECT run_id FROM `my-project.cartlens_staging.runs` WHERE committed_at < TIMESTAMP '2026-10-03 12:00:00.000'));

DELETE FROM `my-project.cartlens_staging.stg_events` WHERE event_date < DATE '2026-10-26';

DELETE FROM `my-project.cartlens_staging.stg_event_items` WHERE event_date < DATE '2026-10-26';

DELETE FROM `my-project.cartlens_staging.recovery_carts` WHERE date < DATE '2026-10-26';

SELECT
      (SELECT SUM(add_to_cart_units) FROM `my-project.cartlens_marts.cart_items_daily` WHERE date = DATE '2026-11-01') AS export_add_to_cart_units,
      (SELECT SUM(purchased_units) FROM `my-project.cartlens_marts.cart_items_daily` WHERE date = DATE '2026-11-01') AS export_purchased_units,
      (SELECT SUM(purchases) FROM `my-project.cartlens_marts.cart_funnel_daily` WHERE date = DATE '2026-11-01') AS export_purchases,
      (SELECT SUM(revenue) FROM `my-project.cartlens_marts.cart_funnel_daily` WHERE date = DATE '2026-11-01') AS export_revenue,
      (SELECT SUM(items_added_to_cart) FROM `my-project.cartlens_marts.ga4_api_items_daily` WHERE date = DATE '2026-11-01') AS api_add_to_cart_units,
      (SELECT SUM(items_purchased) FROM `my-project.cartlens_marts.ga4_api_items_daily` WHERE date = DATE '2026-11-01') AS api_purchased_units,
      (SELECT SUM(ecommerce_purchases) FROM `my-project.cartlens_marts.ga4_api_funnel_daily` WHERE date = DATE '2026-11-01') AS api_purchases,
      (SELECT SUM(purchase_revenue) FROM `my-project.cartlens_marts.ga4_api_funnel_daily` WHERE date = DATE '2026-11-01') AS api_revenue;

CREATE TEMP TABLE `_before_abandoned_carts` AS
SELECT * FROM `my-project.cartlens_marts.abandoned_carts` WHERE date IN (DATE '2026-11-01', DATE '2026-11-02');

SELECT CAST(`date` AS STRING) AS `date`, CAST(`sessions` AS STRING) AS `sessions`, CAST(`sessions_with_view_item` AS STRING) AS `sessions_with_view_item`, CAST(`sessions_with_add_to_cart` AS STRING) AS `sessions_with_add_to_cart`, CAST(`sessions_with_begin_checkout` AS STRING) AS `sessions_with_begin_checkout`, CAST(`sessions_with_purchase` AS STRING) AS `sessions_with_purchase`, CAST(`abandoned_carts` AS STRING) AS `abandoned_carts`, IF(`cart_abandonment_rate` IS NULL, NULL, FORMAT('%s%s.%s', IF(CAST(ROUND(`cart_abandonment_rate` * 10000) AS BIGNUMERIC) < 0, '-', ''), CAST(DIV(ABS(CAST(ROUND(`cart_abandonment_rate` * 10000) AS BIGNUMERIC)), 10000) AS STRING), LPAD(CAST(MOD(ABS(CAST(ROUND(`cart_abandonment_rate` * 10000) AS BIGNUMERIC)), 10000) AS STRING), 4, '0'))) AS `cart_abandonment_rate`, CAST(`purchases` AS STRING) AS `purchases`, IF(`revenue` IS NULL, NULL, FORMAT('%s%s.%s', IF(CAST(ROUND(`revenue` * 100) AS BIGNUMERIC) < 0, '-', ''), CAST(DIV(ABS(CAST(ROUND(`revenue` * 100) AS BIGNUMERIC)), 100) AS STRING), LPAD(CAST(MOD(ABS(CAST(ROUND(`revenue` * 100) AS BIGNUMERIC)), 100) AS STRING), 2, '0'))) AS `revenue`, IF(`abandoned_value` IS NULL, NULL, FORMAT('%s%s.%s', IF(CAST(ROUND(`abandoned_value` * 100) AS BIGNUMERIC) < 0, '-', ''), CAST(DIV(ABS(CAST(ROUND(`abandoned_value` * 100) AS BIGNUMERIC)), 100) AS STRING), LPAD(CAST(MOD(ABS(CAST(ROUND(`abandoned_value` * 100) AS BIGNUMERIC)), 100) AS STRING), 2, '0'))) AS `abandoned_value` FROM `_before_cart_funnel_daily` AS t WHERE t.date IN (DATE '2026-11-01', DATE '2026-11-02') ORDER BY `date`;

SELECT CAST(`date` AS STRING) AS `date`, CAST(`sessions` AS STRING) AS `sessions`, CAST(`sessions_with_view_item` AS STRING) AS `sessions_with_view_item`, CAST(`sessions_with_add_to_cart` AS STRING) AS `sessions_with_add_to_cart`, CAST(`sessions_with_begin_checkout` AS STRING) AS `sessions_with_begin_checkout`, CAST(`sessions_with_purchase` AS STRING) AS `sessions_with_purchase`, CAST(`abandoned_carts` AS STRING) AS `abandoned_carts`, IF(`cart_abandonment_rate` IS NULL, NULL, FORMAT('%s%s.%s', IF(CAST(ROUND(`cart_abandonment_rate` * 10000) AS BIGNUMERIC) < 0, '-', ''), CAST(DIV(ABS(CAST(ROUND(`cart_abandonment_rate` * 10000) AS BIGNUMERIC)), 10000) AS STRING), LPAD(CAST(MOD(ABS(CAST(ROUND(`cart_abandonment_rate` * 10000) AS BIGNUMERIC)), 10000) AS STRING), 4, '0'))) AS `cart_abandonment_rate`, CAST(`purchases` AS STRING) AS `purchases`, IF(`revenue` IS NULL, NULL, FORMAT('%s%s.%s', IF(CAST(ROUND(`revenue` * 100) AS BIGNUMERIC) < 0, '-', ''), CAST(DIV(ABS(CAST(ROUND(`revenue` * 100) AS BIGNUMERIC)), 100) AS STRING), LPAD(CAST(MOD(ABS(CAST(ROUND(`revenue` * 100) AS BIGNUMERIC)), 100) AS STRING), 2, '0'))) AS `revenue`, IF(`abandoned_value` IS NULL, NULL, FORMAT('%s%s.%s', IF(CAST(ROUND(`abandoned_value` * 100) AS BIGNUMERIC) < 0, '-', ''), CAST(DIV(ABS(CAST(ROUND(`abandoned_value` * 100) AS BIGNUMERIC)), 100) AS STRING), LPAD(CAST(MOD(ABS(CAST(ROUND(`abandoned_value` * 100) AS BIGNUMERIC)), 100) AS STRING), 2, '0'))) AS `abandoned_value` FROM `my-project.cartlens_marts.cart_funnel_daily` AS t WHERE t.date IN (DATE '2026-11-01', DATE '2026-11-02') ORDER BY `date`;

SELECT COALESCE(b.`c_date`, a.`c_date`) AS date,
  SUM(CASE WHEN b.present IS NULL THEN 1 ELSE 0 END) AS rows_added,
  SUM(CASE WHEN a.present IS NULL THEN 1 ELSE 0 END) AS rows_removed,
  SUM(CASE WHEN b.present IS NOT NULL AND a.present IS NOT NULL AND (b.`c_first_add_at` <> a.`c_first_add_at` OR b.`c_last_cart_event_at` <> a.`c_last_cart_event_at` OR b.`c_reached_checkout` <> a.`c_reached_checkout` OR b.`c_distinct_items` <> a.`c_distinct_items` OR b.`c_units` <> a.`c_units` OR b.`c_cart_value` <> a.`c_cart_value` OR b.`c_device_category` <> a.`c_device_category` OR b.`c_country` <> a.`c_country` OR b.`c_source` <> a.`c_source` OR b.`c_medium` <> a.`c_medium` OR b.`c_purchased_later` <> a.`c_purchased_later` OR b.`c_ads_consent` <> a.`c_ads_consent`) THEN 1 ELSE 0 END) AS rows_changed,
  SUM(CASE WHEN b.present IS NULL THEN 0 ELSE 1 END) AS rows_before,
  SUM(CASE WHEN a.present IS NULL THEN 0 ELSE 1 END) AS rows_after,
  CAST(COALESCE(SUM(b.`v_distinct_items`), 0) AS STRING) AS `before_distinct_items`,
  CAST(COALESCE(SUM(a.`v_distinct_items`), 0) AS STRING) AS `after_distinct_items`,
  CAST(COALESCE(SUM(b.`v_units`), 0) AS STRING) AS `before_units`,
  CAST(COALESCE(SUM(a.`v_units`), 0) AS STRING) AS `after_units`,
  IF(COALESCE(SUM(b.`v_cart_value`), 0) IS NULL, NULL, FORMAT('%s%s.%s', IF(CAST(ROUND(COALESCE(SUM(b.`v_cart_value`), 0) * 100) AS BIGNUMERIC) < 0, '-', ''), CAST(DIV(ABS(CAST(ROUND(COALESCE(SUM(b.`v_cart_value`), 0) * 100) AS BIGNUMERIC)), 100) AS STRING), LPAD(CAST(MOD(ABS(CAST(ROUND(COALESCE(SUM(b.`v_cart_value`), 0) * 100) AS BIGNUMERIC)), 100) AS STRING), 2, '0'))) AS `before_cart_value`,
  IF(COALESCE(SUM(a.`v_cart_value`), 0) IS NULL, NULL, FORMAT('%s%s.%s', IF(CAST(ROUND(COALESCE(SUM(a.`v_cart_value`), 0) * 100) AS BIGNUMERIC) < 0, '-', ''), CAST(DIV(ABS(CAST(ROUND(COALESCE(SUM(a.`v_cart_value`), 0) * 100) AS BIGNUMERIC)), 100) AS STRING), LPAD(CAST(MOD(ABS(CAST(ROUND(COALESCE(SUM(a.`v_cart_value`), 0) * 100) AS BIGNUMERIC)), 100) AS STRING), 2, '0'))) AS `after_cart_value`
FROM (SELECT COALESCE(CAST(t.`date` AS STRING), '') AS `c_date`, COALESCE(CAST(t.`user_key` AS STRING), '') AS `c_user_key`, COALESCE(CAST(t.`session_id` AS STRING), '') AS `c_session_id`, COALESCE(FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%E3SZ', t.`first_add_at`, 'UTC'), '') AS `c_first_add_at`, COALESCE(FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%E3SZ', t.`last_cart_event_at`, 'UTC'), '') AS `c_last_cart_event_at`, COALESCE(CAST(t.`reached_checkout` AS STRING), '') AS `c_reached_checkout`, COALESCE(CAST(t.`distinct_items` AS STRING), '') AS `c_distinct_items`, COALESCE(CAST(t.`units` AS STRING), '') AS `c_units`, COALESCE(IF(t.`cart_value` IS NULL, NULL, FORMAT('%s%s.%s', IF(CAST(ROUND(t.`cart_value` * 100) AS BIGNUMERIC) < 0, '-', ''), CAST(DIV(ABS(CAST(ROUND(t.`cart_value` * 100) AS BIGNUMERIC)), 100) AS STRING), LPAD(CAST(MOD(ABS(CAST(ROUND(t.`cart_value` * 100) AS BIGNUMERIC)), 100) AS STRING), 2, '0'))), '') AS `c_cart_value`, COALESCE(CAST(t.`device_category` AS STRING), '') AS `c_device_category`, COALESCE(CAST(t.`country` AS STRING), '') AS `c_country`, COALESCE(CAST(t.`source` AS STRING), '') AS `c_source`, COALESCE(CAST(t.`medium` AS STRING), '') AS `c_medium`, COALESCE(CAST(t.`purchased_later` AS STRING), '') AS `c_purchased_later`, COALESCE(CAST(t.`ads_consent` AS STRING), '') AS `c_ads_consent`, t.`distinct_items` AS `v_distinct_items`, t.`units` AS `v_units`, t.`cart_value` AS `v_cart_value`, 1 AS present FROM `_before_abandoned_carts` AS t WHERE t.date IN (DATE '2026-11-01', DATE '2026-11-02')) AS b
FULL OUTER JOIN (SELECT COALESCE(CAST(t.`date` AS STRING), '') AS `c_date`, COALESCE(CAST(t.`user_key` AS STRING), '') AS `c_user_key`, COALESCE(CAST(t.`session_id` AS STRING), '') AS `c_session_id`, COALESCE(FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%E3SZ', t.`first_add_at`, 'UTC'), '') AS `c_first_add_at`, COALESCE(FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%E3SZ', t.`last_cart_event_at`, 'UTC'), '') AS `c_last_cart_event_at`, COALESCE(CAST(t.`reached_checkout` AS STRING), '') AS `c_reached_checkout`, COALESCE(CAST(t.`distinct_items` AS STRING), '') AS `c_distinct_items`, COALESCE(CAST(t.`units` AS STRING), '') AS `c_units`, COALESCE(IF(t.`cart_value` IS NULL, NULL, FORMAT('%s%s.%s', IF(CAST(ROUND(t.`cart_value` * 100) AS BIGNUMERIC) < 0, '-', ''), CAST(DIV(ABS(CAST(ROUND(t.`cart_value` * 100) AS BIGNUMERIC)), 100) AS STRING), LPAD(CAST(MOD(ABS(CAST(ROUND(t.`cart_value` * 100) AS BIGNUMERIC)), 100) AS STRING), 2, '0'))), '') AS `c_cart_value`, COALESCE(CAST(t.`device_category` AS STRING), '') AS `c_device_category`, COALESCE(CAST(t.`country` AS STRING), '') AS `c_country`, COALESCE(CAST(t.`source` AS STRING), '') AS `c_source`, COALESCE(CAST(t.`medium` AS STRING), '') AS `c_medium`, COALESCE(CAST(t.`purchased_later` AS STRING), '') AS `c_purchased_later`, COALESCE(CAST(t.`ads_consent` AS STRING), '') AS `c_ads_consent`, t.`distinct_items` AS `v_distinct_items`, t.`units` AS `v_units`, t.`cart_value` AS `v_cart_value`, 1 AS present FROM `my-project.cartlens_marts.abandoned_carts` AS t WHERE t.date IN (DATE '2026-11-01', DATE '2026-11-02')) AS a ON b.`c_date` = a.`c_date` AND b.`c_user_key` = a.`c_user_key` AND b.`c_session_id` = a.`c_session_id`
GROUP BY 1;

INSERT INTO `my-project.cartlens_staging.restatements` VALUES (DATE '2026-11-01', 'cart_funnel_daily', '20261102T060000Z-abc123', '20261101T060000Z-def456', 0, 'sessions', '3069', '3081'), (DATE '2026-11-01', 'cart_funnel_daily', '20261102T060000Z-abc123', NULL, 1, 'cart_abandonment_rate', NULL, '0.5000');

SELECT CAST(date AS STRING) AS date, run_id FROM `my-project.cartlens_staging.published_sessions` WHERE source = 'ga4-export:shop' AND date IN (DATE '2026-11-01', DATE '2026-11-02');

SELECT CAST(date AS STRING) AS date, table_name, MAX(run_id) AS run_id FROM `my-project.cartlens_staging.restatements` WHERE date IN (DATE '2026-11-01', DATE '2026-11-02') GROUP BY date, table_name;

SELECT CAST(date AS STRING) AS date, table_name, run_id, previous_run_id, column_name, before, after FROM `my-project.cartlens_staging.restatements` ORDER BY run_id, seq
