-- Loads the run's settled lines (_run_settled and the view _run_clean, see ingest/finish.sql) for (DATE '2026-11-01', DATE '2026-11-02'): included
-- events and their items, quarantined lines, and the quality counts. Runs inside the run's
-- transaction, so each date is replaced as a unit.
DELETE FROM stg_events WHERE event_date IN (DATE '2026-11-01', DATE '2026-11-02');
INSERT INTO stg_events
SELECT event_date, input_seq, event_name, event_ts, user_pseudo_id, session_id, device_category, country,
       source, medium, transaction_id, purchase_revenue, '20261102T060000Z-abc123', ads_storage
FROM _run_clean
WHERE NOT is_duplicate AND reason IS NULL AND event_date IN (DATE '2026-11-01', DATE '2026-11-02');

DELETE FROM stg_event_items WHERE event_date IN (DATE '2026-11-01', DATE '2026-11-02');
INSERT INTO stg_event_items
SELECT c.event_date, c.input_seq, i.item_index, i.item_id, i.item_name, i.item_category, i.price,
       -- An item without quantity counts as quantity 1.
       coalesce(i.quantity, 1), i.item_revenue
FROM _run_settled AS c
JOIN _run_items AS i ON i.event_rowid = c.event_rowid
WHERE NOT c.is_duplicate AND c.reason IS NULL AND c.event_date IN (DATE '2026-11-01', DATE '2026-11-02');

-- Lines whose date cannot be read belong to no date: they are replaced per source file instead.
DELETE FROM quarantined_events
WHERE event_date IN (DATE '2026-11-01', DATE '2026-11-02') OR (event_date IS NULL AND source_file IN (SELECT source_file FROM _run_files));
INSERT INTO quarantined_events (event_date, run_id, source_file, landed_sha256, line_no, reason, raw_line, raw_bytes)
SELECT c.event_date, '20261102T060000Z-abc123', f.source_file, f.landed_sha256, c.line_no, c.reason, c.raw_line, c.raw_bytes
FROM _run_settled AS c JOIN _run_files AS f USING (file_idx)
WHERE NOT c.is_duplicate AND c.reason IS NOT NULL AND (c.event_date IN (DATE '2026-11-01', DATE '2026-11-02') OR c.event_date IS NULL);

DELETE FROM quality_daily WHERE date IN (DATE '2026-11-01', DATE '2026-11-02');
INSERT INTO quality_daily
WITH lines AS (
  SELECT event_date,
         count(*) AS lines,
         count(*) FILTER (WHERE is_duplicate) AS duplicates,
         count(*) FILTER (WHERE NOT is_duplicate AND reason IS NOT NULL) AS quarantined
  FROM _run_settled WHERE event_date IN (DATE '2026-11-01', DATE '2026-11-02') GROUP BY event_date
),
events AS (
  SELECT event_date,
         -- Included events are those left after rules 1–4: with a session.
         count(*) FILTER (WHERE session_id IS NOT NULL) AS included_events,
         count(*) FILTER (WHERE session_id IS NULL) AS events_without_session,
         count(*) FILTER (WHERE event_name = 'purchase' AND transaction_id IS NULL) AS purchases_without_transaction_id
  FROM stg_events WHERE event_date IN (DATE '2026-11-01', DATE '2026-11-02') GROUP BY event_date
),
items AS (
  SELECT event_date, count(*) FILTER (WHERE item_id IS NULL) AS items_without_id
  FROM stg_event_items WHERE event_date IN (DATE '2026-11-01', DATE '2026-11-02') GROUP BY event_date
)
SELECT d.date, '20261102T060000Z-abc123', coalesce(l.lines, 0), coalesce(l.duplicates, 0), coalesce(l.quarantined, 0),
       coalesce(e.included_events, 0), coalesce(e.events_without_session, 0),
       coalesce(i.items_without_id, 0), coalesce(e.purchases_without_transaction_id, 0)
FROM (SELECT unnest([DATE '2026-11-01', DATE '2026-11-02']::DATE[]) AS date) AS d
LEFT JOIN lines AS l ON l.event_date = d.date
LEFT JOIN events AS e ON e.event_date = d.date
LEFT JOIN items AS i ON i.event_date = d.date;
