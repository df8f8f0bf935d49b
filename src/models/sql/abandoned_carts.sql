-- materialized: partitioned
-- description: The remarketing list: one row per abandoned cart, keyed by a pseudonymous user_key.
-- assert unique: date, user_key, session_id
-- assert not_null: date, user_key, session_id, first_add_at, last_cart_event_at
-- assert row: units > 0 AND distinct_items > 0 AND cart_value >= 0
-- assert row: last_cart_event_at >= first_add_at
-- assert not_null: purchased_later
-- assert accepted_values: ads_consent in ('granted', 'denied')
-- assert volume: COUNT(*) within 0.5 (warn)
SELECT
  event_date AS date,
  {{ user_key(user_pseudo_id) }} AS user_key,
  session_id,
  {{ timestamp_millis(first_add_ts) }} AS first_add_at,
  {{ timestamp_millis(last_cart_event_ts) }} AS last_cart_event_at,
  has_begin_checkout AS reached_checkout,
  distinct_items,
  units,
  {{ money(cart_value) }} AS cart_value,
  device_category,
  country,
  source,
  medium,
  purchased_later,
  CASE ads_storage WHEN 'Yes' THEN 'granted' WHEN 'No' THEN 'denied' END AS ads_consent
FROM {{ ref('int_sessions') }}
WHERE is_abandoned
