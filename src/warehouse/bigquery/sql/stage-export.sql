-- Stages the GA4 export tables of the run's days, read in place with a date-suffix filter (never a
-- whole wildcard scan; intraday tables do not match), and applies the contract's cleaning in SQL.
-- The export is typed, so the rules about JSON text (valid JSON, arrays, integers written as
-- text) cannot be broken here; the others are checked as in the DuckDB cleaning.
-- Placeholders: {{export}} (`project.dataset`), {{suffixes}} ('YYYYMMDD', …).
CREATE TEMP TABLE _run_raw AS
SELECT
  _TABLE_SUFFIX AS table_suffix,
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
  IF(IS_NAN(e.ecommerce.purchase_revenue) OR IS_INF(e.ecommerce.purchase_revenue), NULL, CAST(e.ecommerce.purchase_revenue AS NUMERIC)) AS purchase_revenue,
  ARRAY(
    SELECT AS STRUCT NULLIF(i.item_id, '') AS item_id, NULLIF(i.item_name, '') AS item_name, NULLIF(i.item_category, '') AS item_category,
      i.price, i.quantity, i.item_revenue, CAST(position + 1 AS INT64) AS item_index
    FROM UNNEST(e.items) AS i WITH OFFSET AS position
  ) AS items
FROM `{{export}}.events_*` AS e
WHERE _TABLE_SUFFIX IN ({{suffixes}});

-- Tables have no line order: input order is (table, timestamp, then the row's text), which is
-- stable from run to run. Identical rows count once (the export can repeat an event).
CREATE TEMP TABLE _run_settled AS
WITH ordered AS (
  SELECT *, ROW_NUMBER() OVER (ORDER BY table_suffix, event_timestamp, row_json) AS input_seq
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
      WHEN event_timestamp IS NULL THEN 'invalid_event_timestamp'
      WHEN EXISTS(SELECT 1 FROM UNNEST(items) AS i WHERE i.quantity IS NOT NULL AND i.quantity <= 0) THEN 'invalid_item_quantity'
      WHEN EXISTS(SELECT 1 FROM UNNEST(items) AS i WHERE IS_NAN(i.price) OR IS_INF(i.price)) THEN 'invalid_item_price'
      WHEN EXISTS(SELECT 1 FROM UNNEST(items) AS i WHERE IS_NAN(i.item_revenue) OR IS_INF(i.item_revenue)) THEN 'invalid_item_revenue'
    END AS reason
  FROM ordered
)
SELECT
  * EXCEPT (raw_event_date, row_json),
  -- A quarantined row without a readable date belongs to the day of its table.
  COALESCE(SAFE.PARSE_DATE('%Y%m%d', raw_event_date), PARSE_DATE('%Y%m%d', table_suffix)) AS event_date,
  IF(reason IS NOT NULL AND NOT is_duplicate, row_json, NULL) AS raw_line
FROM checked;
