-- Stages the GA4 export tables of the run's days, read in place with a date-suffix filter (never a
-- whole wildcard scan; intraday tables do not match), and applies the contract's cleaning in SQL.
-- The export is typed, so the rules about JSON text (valid JSON, arrays, integers written as
-- text) cannot be broken here; the others are checked as in the DuckDB cleaning.
-- The first statement's SELECT is read-export.sql, put in by bigquery-warehouse.ts.
-- Event dates are accepted from the first date cartlens handles to the day after the run's UTC
-- start date (date_out_of_range; both bounds are put in by staging-sql.ts).
CREATE TEMP TABLE _run_raw AS
SELECT
  CONCAT('2', _TABLE_SUFFIX) AS table_suffix,
  FALSE AS intraday,
  TO_JSON_STRING(e) AS row_json,
  e.event_date AS raw_event_date,
  e.event_timestamp,
  e.event_name,
  e.user_pseudo_id,
  -- The first ga_session_id parameter: its int_value, else its string_value when all digits.
  (SELECT COALESCE(p.value.int_value, IF(REGEXP_CONTAINS(p.value.string_value, r'^[0-9]+$'), SAFE_CAST(p.value.string_value AS INT64), NULL))
   FROM UNNEST(e.event_params) AS p WITH OFFSET AS position
   WHERE p.key = 'ga_session_id' ORDER BY position LIMIT 1) AS session_id,
  e.device.category AS device_category,
  e.geo.country AS country,
  e.traffic_source.source AS source,
  e.traffic_source.medium AS medium,
  NULLIF(e.ecommerce.transaction_id, '') AS transaction_id,
  -- As exported (FLOAT64): stage-export.sql checks its magnitude, load.sql makes it NUMERIC.
  e.ecommerce.purchase_revenue,
  -- Consent mode: only the exact strings Yes and No count.
  IF(e.privacy_info.ads_storage IN ('Yes', 'No'), e.privacy_info.ads_storage, NULL) AS ads_storage,
  ARRAY(
    SELECT AS STRUCT NULLIF(i.item_id, '') AS item_id, NULLIF(i.item_name, '') AS item_name, NULLIF(i.item_category, '') AS item_category,
      i.price, i.quantity, i.item_revenue, CAST(position + 1 AS INT64) AS item_index
    FROM UNNEST(e.items) AS i WITH OFFSET AS position
  ) AS items
FROM `my-project.analytics_123.events_2*` AS e
WHERE _TABLE_SUFFIX IN ('0261101', '0261102');

-- Tables have no line order. Where the contract breaks ties by input order, (table, timestamp,
-- fingerprint of the row) stands in: stable from run to run. Identical rows count once (the
-- export can repeat events).
CREATE TEMP TABLE _run_settled AS
WITH ordered AS (
  -- Day (table) first, then timestamp, then the row's fingerprint: unique, and without a sort
  -- across the whole run (each day sorts on its own).
  SELECT *, CAST(table_suffix AS INT64) * 4294967296
    + ROW_NUMBER() OVER (PARTITION BY table_suffix ORDER BY event_timestamp, FARM_FINGERPRINT(row_json), row_json) AS input_seq
  FROM _run_raw
),
checked AS (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY row_json ORDER BY input_seq) > 1 AS is_duplicate,
    CASE
      WHEN event_name IS NULL OR event_name = '' THEN 'missing_event_name'
      WHEN user_pseudo_id IS NULL OR user_pseudo_id = '' THEN 'missing_user_pseudo_id'
      WHEN SAFE.PARSE_DATE('%Y%m%d', raw_event_date) IS NULL OR NOT REGEXP_CONTAINS(raw_event_date, r'^[0-9]{8}$') THEN 'invalid_event_date'
      -- Outside TIMESTAMP's range a timestamp cannot be published (DuckDB's rule: not a BIGINT).
      WHEN event_timestamp IS NULL OR SAFE.TIMESTAMP_MICROS(event_timestamp) IS NULL THEN 'invalid_event_timestamp'
      -- event_date is the property's local date of the instant, and every time zone lies within a
      -- day of UTC: further off, the date (or the timestamp) is corrupt.
      WHEN ABS(DATE_DIFF(SAFE.PARSE_DATE('%Y%m%d', raw_event_date), DATE(SAFE.TIMESTAMP_MICROS(event_timestamp), 'UTC'), DAY)) > 1 THEN 'event_date_mismatch'
      -- An event cannot come from the future, nor from before GA4 (a 19700101 with a timestamp to match).
      WHEN SAFE.PARSE_DATE('%Y%m%d', raw_event_date) NOT BETWEEN DATE '2000-01-01' AND DATE_ADD(CURRENT_DATE('UTC'), INTERVAL 1 DAY) THEN 'date_out_of_range'
      WHEN EXISTS(SELECT 1 FROM UNNEST(items) AS i WHERE i.quantity IS NOT NULL AND i.quantity <= 0) THEN 'invalid_item_quantity'
      WHEN EXISTS(SELECT 1 FROM UNNEST(items) AS i WHERE i.quantity > 1000000) THEN 'quantity_out_of_range'
      WHEN EXISTS(SELECT 1 FROM UNNEST(items) AS i WHERE IS_NAN(i.price) OR IS_INF(i.price)) THEN 'invalid_item_price'
      WHEN EXISTS(SELECT 1 FROM UNNEST(items) AS i WHERE IS_NAN(i.item_revenue) OR IS_INF(i.item_revenue)) THEN 'invalid_item_revenue'
      -- Money no cart holds, whose sums would overflow NUMERIC (NaN compares false: counted as 0).
      WHEN ABS(purchase_revenue) >= 1e9
        OR EXISTS(SELECT 1 FROM UNNEST(items) AS i WHERE ABS(i.price) >= 1e9 OR ABS(i.item_revenue) >= 1e9) THEN 'value_out_of_range'
    END AS reason
  FROM ordered
)
SELECT
  * EXCEPT (raw_event_date, row_json),
  -- A quarantined row belongs to its own date when that date is trusted, as a line does in a run on
  -- files (the DuckDB staging): readable, in the run's range (date_out_of_range), and not
  -- contradicted by its timestamp. Otherwise it belongs to no date (NULL: the run report's
  -- undated, replaced per export table by load.sql), so a corrupt 99991231 never makes a day.
  CASE
    WHEN reason IS NULL THEN SAFE.PARSE_DATE('%Y%m%d', raw_event_date)
    WHEN reason = 'event_date_mismatch' OR NOT REGEXP_CONTAINS(raw_event_date, r'^[0-9]{8}$') THEN NULL
    WHEN SAFE.PARSE_DATE('%Y%m%d', raw_event_date) BETWEEN DATE '2000-01-01' AND DATE_ADD(CURRENT_DATE('UTC'), INTERVAL 1 DAY) THEN SAFE.PARSE_DATE('%Y%m%d', raw_event_date)
  END AS event_date,
  IF(reason IS NOT NULL AND NOT is_duplicate, row_json, NULL) AS raw_line
FROM checked;
