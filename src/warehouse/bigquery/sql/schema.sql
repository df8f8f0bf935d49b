-- The warehouse's own tables in the staging dataset ({{staging}}), date-partitioned. Runs before
-- the run's transaction: DDL cannot run inside one.
CREATE TABLE IF NOT EXISTS `{{staging}}.stg_events` (
  event_date DATE NOT NULL, input_seq INT64 NOT NULL, event_name STRING NOT NULL, event_ts INT64 NOT NULL,
  user_pseudo_id STRING NOT NULL, session_id INT64, device_category STRING, country STRING,
  source STRING, medium STRING, transaction_id STRING, purchase_revenue NUMERIC, run_id STRING NOT NULL,
  ads_storage STRING
) PARTITION BY event_date;
-- Tables made before consent was staged get the column (NULL for their past days).
ALTER TABLE `{{staging}}.stg_events` ADD COLUMN IF NOT EXISTS ads_storage STRING;
-- The abandoned carts with their raw user ids and items (model recovery_carts): cart_recoveries
-- matches later purchases on them. Raw ids: purged with the staged events (retention.staged_days).
CREATE TABLE IF NOT EXISTS `{{staging}}.recovery_carts` (
  date DATE NOT NULL, user_pseudo_id STRING NOT NULL, session_id INT64 NOT NULL, last_cart_event_ts INT64 NOT NULL,
  cart_value NUMERIC, item_id STRING
) PARTITION BY date CLUSTER BY user_pseudo_id;
CREATE TABLE IF NOT EXISTS `{{staging}}.stg_event_items` (
  event_date DATE NOT NULL, input_seq INT64 NOT NULL, item_index INT64 NOT NULL, item_id STRING,
  item_name STRING, item_category STRING, price NUMERIC, quantity INT64 NOT NULL, item_revenue NUMERIC
) PARTITION BY event_date;
CREATE TABLE IF NOT EXISTS `{{staging}}.quarantined_events` (
  event_date DATE, run_id STRING NOT NULL, source_file STRING NOT NULL, landed_sha256 STRING NOT NULL,
  line_no INT64 NOT NULL, reason STRING NOT NULL, raw_line STRING
) PARTITION BY event_date;
CREATE TABLE IF NOT EXISTS `{{staging}}.quality_daily` (
  date DATE NOT NULL, run_id STRING NOT NULL, lines INT64 NOT NULL, duplicates INT64 NOT NULL,
  quarantined INT64 NOT NULL, included_events INT64 NOT NULL, events_without_session INT64 NOT NULL,
  items_without_id INT64 NOT NULL, purchases_without_transaction_id INT64 NOT NULL
) PARTITION BY date;
CREATE TABLE IF NOT EXISTS `{{staging}}.runs` (
  run_id STRING NOT NULL, started_at TIMESTAMP NOT NULL, committed_at TIMESTAMP NOT NULL,
  dates STRING NOT NULL, source STRING NOT NULL, files INT64 NOT NULL
);
CREATE TABLE IF NOT EXISTS `{{staging}}.assertion_results` (
  run_id STRING NOT NULL, date DATE NOT NULL, model STRING NOT NULL, assertion STRING NOT NULL,
  severity STRING NOT NULL, blocking BOOL NOT NULL, failing_rows INT64 NOT NULL, sample STRING
) PARTITION BY date;
CREATE TABLE IF NOT EXISTS `{{staging}}.run_state` (
  source STRING NOT NULL, date DATE NOT NULL, status STRING NOT NULL, run_id STRING NOT NULL,
  started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP NOT NULL, input_fingerprint STRING,
  rows_json STRING, final BOOL NOT NULL, last_error STRING, input STRING
);
-- A warehouse from before intraday (source.intraday): its days were computed from daily input.
ALTER TABLE `{{staging}}.run_state` ADD COLUMN IF NOT EXISTS input STRING;
-- The fingerprint of the key behind user_key (HMAC-SHA256 of a fixed label under it, never the
-- key): a run with another key is refused, `cartlens rotate-user-key` replaces it (user-key.ts).
CREATE TABLE IF NOT EXISTS `{{staging}}.user_key_fingerprint` (fingerprint STRING NOT NULL, run_id STRING NOT NULL);
-- Each judged date's last judgement per metric (normal, high, low): an anomaly is alerted once,
-- and again only when its judgement changes (src/ops/anomalies.ts).
CREATE TABLE IF NOT EXISTS `{{staging}}.anomaly_judgements` (
  date DATE NOT NULL, metric STRING NOT NULL, judgement STRING NOT NULL, run_id STRING NOT NULL
) PARTITION BY date;
-- GA4 Data API: every landed response page, as loaded (load jobs append; a run reads its own),
-- and what each fetch of a report and date returned.
CREATE TABLE IF NOT EXISTS `{{staging}}.ga4_api_pages` (
  run_id STRING NOT NULL, property STRING NOT NULL, report STRING NOT NULL, date DATE NOT NULL,
  page INT64 NOT NULL, request JSON, response JSON
) PARTITION BY date;
CREATE TABLE IF NOT EXISTS `{{staging}}.ga4_api_fetches` (
  property STRING NOT NULL, report STRING NOT NULL, date DATE NOT NULL, run_id STRING NOT NULL,
  fetched_at TIMESTAMP NOT NULL, final BOOL NOT NULL, row_count INT64 NOT NULL, tokens INT64 NOT NULL, quality STRING
) PARTITION BY date;
-- Guards on dates already published (src/pipeline/published-guards.ts): the sessions each date was
-- last published with, every input read, and the late lines of final published dates.
CREATE TABLE IF NOT EXISTS `{{staging}}.published_sessions` (
  source STRING NOT NULL, date DATE NOT NULL, run_id STRING NOT NULL, sessions INT64 NOT NULL
);
CREATE TABLE IF NOT EXISTS `{{staging}}.read_inputs` (
  source STRING NOT NULL, sha256 STRING NOT NULL, first_run_id STRING NOT NULL
);
CREATE TABLE IF NOT EXISTS `{{staging}}.late_lines` (
  source STRING NOT NULL, date DATE NOT NULL, run_id STRING NOT NULL, source_file STRING NOT NULL,
  landed_sha256 STRING, lines INT64 NOT NULL
);
-- What each republish changed in a date's published files (src/pipeline/restatements.ts), before
-- and after as the CSV writes them; `seq`: the order a run wrote them.
CREATE TABLE IF NOT EXISTS `{{staging}}.restatements` (
  date DATE NOT NULL, table_name STRING NOT NULL, run_id STRING NOT NULL, previous_run_id STRING,
  seq INT64 NOT NULL, column_name STRING NOT NULL, before STRING, after STRING
) PARTITION BY date;
