-- Pass 2 over the same files with DuckDB's JSON reader, in one statement: one row per non-blank
-- line, in file then line order (rowid minus its file's first rowid is the line's position among
-- the file's non-blank lines).
-- An invalid line gives a row of NULLs. Fields that a quarantine rule checks are read as JSON
-- leaves, so their JSON type is known; the rest is read typed. Rules 1–5 of the contract (with the
-- date–timestamp check and the date's range) are decided here, 6–7 (arrays) in finish.sql, 8–10
-- (items) and the money range in items.sql.
CREATE OR REPLACE TEMP TABLE _run_events AS
WITH j AS (
  SELECT *, file_index
  FROM read_json({{paths}}, format = 'newline_delimited', records = true, ignore_errors = true,
                 maximum_object_size = {{max_line_bytes}},
                 columns = {
                   event_date: 'JSON', event_timestamp: 'JSON', event_name: 'JSON', user_pseudo_id: 'JSON',
                   event_params: 'STRUCT(key VARCHAR, value STRUCT(int_value JSON, string_value JSON))[]',
                   items: 'STRUCT(item_id VARCHAR, item_name VARCHAR, item_category VARCHAR, price JSON, quantity JSON, item_revenue JSON)[]',
                   device: 'STRUCT(category VARCHAR)', geo: 'STRUCT(country VARCHAR)',
                   traffic_source: 'STRUCT(source VARCHAR, medium VARCHAR)',
                   ecommerce: 'STRUCT(transaction_id VARCHAR, purchase_revenue JSON)',
                   privacy_info: 'JSON'
                 })
),
typed AS (
  SELECT
    file_index,
    -- No field at all: not a JSON object, or an object with none of these fields. The
    -- quarantine step tells the two apart from the line's text.
    (event_date IS NULL AND event_timestamp IS NULL AND event_name IS NULL AND user_pseudo_id IS NULL
      AND event_params IS NULL AND items IS NULL AND device IS NULL AND geo IS NULL
      AND traffic_source IS NULL AND ecommerce IS NULL) AS no_fields,
    CASE WHEN json_type(event_name) = 'VARCHAR' THEN nullif(event_name ->> '$', '') END AS event_name,
    CASE WHEN json_type(user_pseudo_id) = 'VARCHAR' THEN nullif(user_pseudo_id ->> '$', '') END AS user_pseudo_id,
    CASE WHEN json_type(event_date) = 'VARCHAR' AND regexp_full_match(event_date ->> '$', '[0-9]{8}')
      THEN try_strptime(event_date ->> '$', '%Y%m%d')::DATE END AS event_date,
    cl_integer(json_type(event_timestamp), event_timestamp::VARCHAR) AS event_ts,
    items,
    -- NULL when absent, null or not an array: only then does finish.sql check the line's text.
    event_params IS NULL AS params_missing,
    list_filter(event_params, param -> param.key = 'ga_session_id')[1].value AS session_value,
    device.category AS device_category,
    geo.country AS country,
    traffic_source.source AS source,
    traffic_source.medium AS medium,
    nullif(ecommerce.transaction_id, '') AS transaction_id,
    cl_revenue_text(json_type(ecommerce.purchase_revenue), ecommerce.purchase_revenue::VARCHAR) AS revenue_text,
    -- Consent mode: only the exact strings Yes and No count; a privacy_info that is not an object
    -- counts as absent, never as a reason to quarantine.
    CASE WHEN json_type(privacy_info) = 'OBJECT' AND json_type(privacy_info, '$.ads_storage') = 'VARCHAR'
              AND json_extract_string(privacy_info, '$.ads_storage') IN ('Yes', 'No')
         THEN json_extract_string(privacy_info, '$.ads_storage') END AS ads_storage
  FROM j
)
SELECT
  file_index::INTEGER AS file_idx,
  no_fields,
  CASE
    WHEN no_fields THEN 'invalid_json'
    WHEN event_name IS NULL THEN 'missing_event_name'
    WHEN user_pseudo_id IS NULL THEN 'missing_user_pseudo_id'
    WHEN event_date IS NULL THEN 'invalid_event_date'
    WHEN event_ts IS NULL THEN 'invalid_event_timestamp'
    -- event_date is a local date of the instant, and every time zone is within a day of UTC. A
    -- timestamp beyond DuckDB's range has no UTC date: it is as far off as can be.
    WHEN coalesce(abs(datediff('day', event_date, try(make_timestamp(event_ts))::DATE)) > 1, true) THEN 'event_date_mismatch'
    -- Before 2000 or after the day after the run's UTC date, even with a timestamp that agrees.
    WHEN dated_in_range(event_date) IS NULL THEN 'date_out_of_range'
  END AS early_reason,
  event_date,
  event_name,
  event_ts,
  user_pseudo_id,
  coalesce(cl_integer(json_type(session_value.int_value), session_value.int_value::VARCHAR),
           cl_digits(json_type(session_value.string_value), session_value.string_value::VARCHAR)) AS session_id,
  device_category,
  country,
  source,
  medium,
  transaction_id,
  cl_decimal(revenue_text) AS purchase_revenue,
  -- The money range rule (items.sql) reads the number as a double, as the contract does.
  coalesce(cl_money_out_of_range(TRY_CAST(revenue_text AS DOUBLE)), false) AS revenue_out_of_range,
  -- The items list is unnested, then dropped, by items.sql: later steps see only this.
  items,
  items IS NULL AS items_missing,
  params_missing,
  ads_storage
FROM typed;
