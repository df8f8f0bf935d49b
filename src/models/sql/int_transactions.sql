-- materialized: temp
-- description: One row per date and non-empty transaction_id: its first purchase event in input order, and that event's revenue (0 when missing or not numeric).
SELECT event_date, transaction_id, input_seq AS first_input_seq, COALESCE(purchase_revenue, 0) AS revenue
FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY event_date, transaction_id ORDER BY input_seq) AS position
  FROM {{ ref('stg_events') }}
  WHERE event_date IN {{ run_dates }}
    AND session_id IS NOT NULL
    AND event_name = 'purchase'
    AND transaction_id IS NOT NULL
) AS ranked
WHERE position = 1
