-- materialized: partitioned
-- description: The remarketing audience: abandoned carts not purchased later that day, with ads consent granted (published only with export.remarketing_audience).
-- assert unique: date, user_key, session_id
-- assert not_null: date, user_key, session_id, last_cart_event_at
SELECT date, user_key, session_id, cart_value, distinct_items, last_cart_event_at
FROM {{ ref('abandoned_carts') }}
WHERE date IN {{ run_dates }} AND {{ remarketable }}
