-- The export rows of the run's days, read in place with a date-suffix filter: only the tables of
-- those days are scanned. What `cartlens plan --dry-run` prices. Reading every column (the
-- dedupe compares whole rows) bills the whole day: raise the cost guard for very large properties.
-- Placeholders: {{export_tables}} (`project.dataset.events_2*`, or `events_intraday_2*`), {{suffixes}}
-- ('YYYYMMDD' less the 2, …), {{intraday}} (whether those are GA4's intraday tables: TRUE or FALSE).
SELECT
  CONCAT('2', _TABLE_SUFFIX) AS table_suffix,
  {{intraday}} AS intraday,
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
-- `events_2*`, not `events_*`: the wildcard would also match `events_intraday_*`, whose schema
-- can differ (a wildcard takes the newest matching table's). Suffixes are the dates less the 2.
FROM {{export_tables}} AS e
WHERE _TABLE_SUFFIX IN ({{suffixes}})
