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
WHERE _TABLE_SUFFIX IN ('0261101', '0261102')
