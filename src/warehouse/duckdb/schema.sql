-- The warehouse's own tables. Each is replaced one date at a time, inside the run's transaction.
CREATE TABLE IF NOT EXISTS stg_events (
  event_date DATE NOT NULL, input_seq BIGINT NOT NULL, event_name VARCHAR NOT NULL, event_ts BIGINT NOT NULL,
  user_pseudo_id VARCHAR NOT NULL, session_id BIGINT, device_category VARCHAR, country VARCHAR,
  source VARCHAR, medium VARCHAR, transaction_id VARCHAR, purchase_revenue DECIMAL(38,9), run_id VARCHAR NOT NULL,
  ads_storage VARCHAR
);
-- Warehouses made before consent was staged get the column (NULL for their past days).
ALTER TABLE stg_events ADD COLUMN IF NOT EXISTS ads_storage VARCHAR;
-- The abandoned carts with their raw user ids and items (model recovery_carts): cart_recoveries
-- matches later purchases on them. Raw ids: purged with the staged events (retention.staged_days).
CREATE TABLE IF NOT EXISTS recovery_carts (
  date DATE NOT NULL, user_pseudo_id VARCHAR NOT NULL, session_id BIGINT NOT NULL, last_cart_event_ts BIGINT NOT NULL,
  cart_value DECIMAL(38,2), item_id VARCHAR
);
CREATE TABLE IF NOT EXISTS stg_event_items (
  event_date DATE NOT NULL, input_seq BIGINT NOT NULL, item_index INTEGER NOT NULL, item_id VARCHAR,
  item_name VARCHAR, item_category VARCHAR, price DECIMAL(38,9), quantity BIGINT NOT NULL, item_revenue DECIMAL(38,9)
);
-- Every quarantined line, verbatim, with where it came from: inspect or replay it from here.
CREATE TABLE IF NOT EXISTS quarantined_events (
  event_date DATE, run_id VARCHAR NOT NULL, source_file VARCHAR NOT NULL, landed_sha256 VARCHAR NOT NULL,
  line_no BIGINT NOT NULL, reason VARCHAR NOT NULL, raw_line VARCHAR
);
-- The exact bytes of a line that is not UTF-8 (NULL otherwise); added after the table's first release.
ALTER TABLE quarantined_events ADD COLUMN IF NOT EXISTS raw_bytes BLOB;
CREATE TABLE IF NOT EXISTS quality_daily (
  date DATE NOT NULL, run_id VARCHAR NOT NULL, lines BIGINT NOT NULL, duplicates BIGINT NOT NULL,
  quarantined BIGINT NOT NULL, included_events BIGINT NOT NULL, events_without_session BIGINT NOT NULL,
  items_without_id BIGINT NOT NULL, purchases_without_transaction_id BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
  run_id VARCHAR NOT NULL, started_at TIMESTAMP NOT NULL, committed_at TIMESTAMP NOT NULL,
  dates VARCHAR NOT NULL, source VARCHAR NOT NULL, files INTEGER NOT NULL
);
-- Every assertion's outcome per run and date (0 failing rows: it passed).
CREATE TABLE IF NOT EXISTS assertion_results (
  run_id VARCHAR NOT NULL, date DATE NOT NULL, model VARCHAR NOT NULL, assertion VARCHAR NOT NULL,
  severity VARCHAR NOT NULL, blocking BOOLEAN NOT NULL, failing_rows BIGINT NOT NULL, sample VARCHAR
);
-- Where every day stands, per source: complete (final and published), provisional (published,
-- GA4 may still revise it), failed (with the reason), deferred (its input is not there yet).
CREATE TABLE IF NOT EXISTS run_state (
  source VARCHAR NOT NULL, date DATE NOT NULL, status VARCHAR NOT NULL, run_id VARCHAR NOT NULL,
  started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP NOT NULL, input_fingerprint VARCHAR,
  rows_json VARCHAR, final BOOLEAN NOT NULL, last_error VARCHAR, input VARCHAR
);
-- A warehouse from before intraday (source.intraday): its days were computed from daily input.
ALTER TABLE run_state ADD COLUMN IF NOT EXISTS input VARCHAR;
-- Guards on dates already published (src/pipeline/published-guards.ts): the sessions each date was
-- last published with (a republish that would shrink them is withheld), every input file a run
-- has read (by SHA-256), and the lines of final, published dates that later input brought and that
-- wait for an explicit `--date` (never recomputed on their own).
CREATE TABLE IF NOT EXISTS published_sessions (
  source VARCHAR NOT NULL, date DATE NOT NULL, run_id VARCHAR NOT NULL, sessions BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS read_inputs (
  source VARCHAR NOT NULL, sha256 VARCHAR NOT NULL, first_run_id VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS late_lines (
  source VARCHAR NOT NULL, date DATE NOT NULL, run_id VARCHAR NOT NULL, source_file VARCHAR NOT NULL,
  landed_sha256 VARCHAR, lines BIGINT NOT NULL
);
-- The fingerprint of the key behind user_key (HMAC-SHA256 of a fixed label under it, never the
-- key): a run with another key is refused, `cartlens rotate-user-key` replaces it (user-key.ts).
CREATE TABLE IF NOT EXISTS user_key_fingerprint (fingerprint VARCHAR NOT NULL, run_id VARCHAR NOT NULL);
-- Each judged date's last judgement per metric (normal, high, low): an anomaly is alerted once,
-- and again only when its judgement changes (src/ops/anomalies.ts).
CREATE TABLE IF NOT EXISTS anomaly_judgements (
  date DATE NOT NULL, metric VARCHAR NOT NULL, judgement VARCHAR NOT NULL, run_id VARCHAR NOT NULL
);
-- What each republish changed in a date's published files (src/pipeline/restatements.ts): per
-- changed value, its table and column (cart_funnel_daily: a metric; the other tables: rows_added,
-- rows_removed, rows_changed, rows, sum(<column>)), before and after as the CSV writes them, the
-- run that changed it and the one that published it before. `seq`: the order a run wrote them.
CREATE TABLE IF NOT EXISTS restatements (
  date DATE NOT NULL, table_name VARCHAR NOT NULL, run_id VARCHAR NOT NULL, previous_run_id VARCHAR,
  seq INTEGER NOT NULL, column_name VARCHAR NOT NULL, before VARCHAR, after VARCHAR
);
