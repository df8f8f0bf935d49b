-- Loads the run's settled rows (_run_settled, see stage-export.sql) for the run's dates, inside the
-- run's transaction: included events and their items, quarantined rows, quality counts.
DELETE FROM `my-project.cartlens_staging.stg_events` WHERE event_date IN (DATE '2026-11-01', DATE '2026-11-02');
INSERT INTO `my-project.cartlens_staging.stg_events`
SELECT event_date, input_seq, event_name, event_timestamp, user_pseudo_id, session_id, device_category, country,
       source, medium, transaction_id,
       -- NaN is NULL, which the models count as 0 (larger values are quarantined: stage-export.sql).
       SAFE_CAST(purchase_revenue AS NUMERIC),
       '20261102T060000Z-abc123', ads_storage
FROM _run_settled
WHERE NOT is_duplicate AND reason IS NULL AND event_date IN (DATE '2026-11-01', DATE '2026-11-02');

DELETE FROM `my-project.cartlens_staging.stg_event_items` WHERE event_date IN (DATE '2026-11-01', DATE '2026-11-02');
INSERT INTO `my-project.cartlens_staging.stg_event_items`
SELECT s.event_date, s.input_seq, i.item_index, i.item_id, i.item_name, i.item_category,
       SAFE_CAST(i.price AS NUMERIC),
       -- An item without quantity counts as quantity 1.
       COALESCE(i.quantity, 1),
       SAFE_CAST(i.item_revenue AS NUMERIC)
FROM _run_settled AS s, UNNEST(s.items) AS i
WHERE NOT s.is_duplicate AND s.reason IS NULL AND s.event_date IN (DATE '2026-11-01', DATE '2026-11-02');

-- Rows whose date is not trusted belong to no date: they are replaced per export table instead.
DELETE FROM `my-project.cartlens_staging.quarantined_events`
WHERE event_date IN (DATE '2026-11-01', DATE '2026-11-02')
   OR (event_date IS NULL AND source_file IN (SELECT DISTINCT CONCAT('my-project.analytics_123.', IF(intraday, 'events_intraday_', 'events_'), table_suffix) FROM _run_settled));
INSERT INTO `my-project.cartlens_staging.quarantined_events`
SELECT event_date, '20261102T060000Z-abc123', CONCAT('my-project.analytics_123.', IF(intraday, 'events_intraday_', 'events_'), table_suffix), '', input_seq, reason, raw_line
FROM _run_settled
WHERE NOT is_duplicate AND reason IS NOT NULL AND (event_date IN (DATE '2026-11-01', DATE '2026-11-02') OR event_date IS NULL);

DELETE FROM `my-project.cartlens_staging.quality_daily` WHERE date IN (DATE '2026-11-01', DATE '2026-11-02');
INSERT INTO `my-project.cartlens_staging.quality_daily`
SELECT
  event_date,
  '20261102T060000Z-abc123',
  COUNT(*),
  COUNTIF(is_duplicate),
  COUNTIF(NOT is_duplicate AND reason IS NOT NULL),
  COUNTIF(NOT is_duplicate AND reason IS NULL AND session_id IS NOT NULL),
  COUNTIF(NOT is_duplicate AND reason IS NULL AND session_id IS NULL),
  SUM(IF(NOT is_duplicate AND reason IS NULL, (SELECT COUNTIF(i.item_id IS NULL) FROM UNNEST(items) AS i), 0)),
  COUNTIF(NOT is_duplicate AND reason IS NULL AND event_name = 'purchase' AND transaction_id IS NULL)
FROM _run_settled
WHERE event_date IN (DATE '2026-11-01', DATE '2026-11-02')
GROUP BY event_date;
