-- materialized: partitioned
-- description: GA4 Data API funnel report, typed; rows are published as GA4 sends them (totalPurchasers is not additive).
-- assert unique: date, device_category, country, session_source_medium
-- assert not_null: date
SELECT
  date,
  device_category,
  country,
  session_source_medium,
  CAST(sessions AS BIGINT) AS sessions,
  CAST(add_to_carts AS BIGINT) AS add_to_carts,
  CAST(checkouts AS BIGINT) AS checkouts,
  CAST(ecommerce_purchases AS BIGINT) AS ecommerce_purchases,
  {{ money(purchase_revenue) }} AS purchase_revenue,
  CAST(total_purchasers AS BIGINT) AS total_purchasers
FROM {{ ref('raw_ga4_api_funnel') }}
WHERE date IN {{ run_dates }}
