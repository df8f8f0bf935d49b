-- Stages the GA4 export tables of the run's days, read in place with a date-suffix filter (never a
-- whole wildcard scan; intraday tables do not match), and applies the contract's cleaning in SQL.
-- The export is typed, so the rules about JSON text (valid JSON, arrays, integers written as
-- text) cannot be broken here; the others are checked as in the DuckDB cleaning.
-- Placeholder: {{read_export}} (read-export.sql).
CREATE TEMP TABLE _run_raw AS
{{read_export}};

-- Tables have no line order. Where the contract breaks ties by input order, a fingerprint of
-- the row stands in: stable from run to run, unique among distinct rows, and computed without a
-- global sort (which would not scale). Identical rows count once (the export can repeat events).
CREATE TEMP TABLE _run_settled AS
WITH ordered AS (
  SELECT *, FARM_FINGERPRINT(row_json) AS input_seq
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
