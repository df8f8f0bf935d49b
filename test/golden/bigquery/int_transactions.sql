CREATE TEMP TABLE `int_transactions` AS
SELECT event_date, transaction_id, input_seq AS first_input_seq, COALESCE(purchase_revenue, 0) AS revenue
FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY event_date, transaction_id ORDER BY input_seq) AS position
  FROM `my-project.cartlens_staging.stg_events`
  WHERE event_date IN (DATE '2026-11-01')
    AND session_id IS NOT NULL
    AND event_name = 'purchase'
    AND transaction_id IS NOT NULL
) AS ranked
WHERE position = 1;
