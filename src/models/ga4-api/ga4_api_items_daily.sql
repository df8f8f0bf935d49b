-- materialized: partitioned
-- description: GA4 Data API item report, typed, with the cart-to-purchase rate recomputed from its counts.
-- assert unique: date, item_id
-- assert not_null: date, item_id
SELECT
  date,
  item_id,
  item_name,
  item_category,
  CAST(items_viewed AS BIGINT) AS items_viewed,
  CAST(items_added_to_cart AS BIGINT) AS items_added_to_cart,
  CAST(items_checked_out AS BIGINT) AS items_checked_out,
  CAST(items_purchased AS BIGINT) AS items_purchased,
  {{ money(item_revenue) }} AS item_revenue,
  {{ rate(CAST(items_purchased AS BIGINT), CAST(items_added_to_cart AS BIGINT)) }} AS cart_to_purchase_rate
FROM {{ ref('raw_ga4_api_items') }}
WHERE date IN {{ run_dates }}
