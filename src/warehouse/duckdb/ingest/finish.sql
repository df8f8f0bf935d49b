-- Settles each non-blank line of the run, once the per-file scans are in (_run_lines,
-- _run_events, _run_files) and the text of quarantined lines is kept (_line_text):
--   _run_settled: narrow, one row per non-blank line: duplicate or not, its quarantine reason
--                 (the first rule broken, in the contract's order), its date, its input order;
--   _run_clean:   a view adding the event's fields, for loading.
-- First each line with its parsed event's narrow fields, then the text kept for some lines: in one
-- statement, DuckDB joined the day's lines to the few kept texts after the other joins and held them
-- in memory (a 5M-event day ran out of a 256MB memory_limit here).
CREATE OR REPLACE TEMP TABLE _line_events AS
SELECT
  p.file_idx, p.line_no, p.event_rowid, p.is_duplicate, p.kept_file_idx, p.kept_line_no,
  e.no_fields, e.early_reason, e.items_missing, e.params_missing, e.event_date, e.session_id IS NOT NULL AS has_session,
  ir.late_reason
FROM _line_positions AS p
JOIN _run_events AS e ON e.rowid = p.event_rowid
LEFT JOIN _late_reasons AS ir ON ir.event_rowid = p.event_rowid;

CREATE OR REPLACE TEMP TABLE _run_settled AS
SELECT
  l.file_idx,
  l.line_no,
  -- Input order: files sorted by path, then lines.
  (l.file_idx::BIGINT << 40) + l.line_no AS input_seq,
  l.event_rowid,
  l.is_duplicate,
  CASE
    -- Nothing was read from the line: not a JSON object, or an object DuckDB could not read.
    WHEN l.no_fields THEN CASE WHEN json_type(try(CAST(t.raw_line AS JSON))) = 'OBJECT'
                                    AND nullif(json_extract_string(t.raw_line, '$.event_name'), '') IS NULL
                               THEN 'missing_event_name' ELSE 'invalid_json' END
    ELSE coalesce(
      l.early_reason,
      -- The JSON reader reads a non-array list as NULL: the line's text tells absent from wrong.
      CASE WHEN l.items_missing AND json_type(try(CAST(t.raw_line AS JSON)), '$.items') NOT IN ('ARRAY', 'NULL') THEN 'items_not_array'
           WHEN l.params_missing AND json_type(try(CAST(t.raw_line AS JSON)), '$.event_params') NOT IN ('ARRAY', 'NULL') THEN 'event_params_not_array' END,
      l.late_reason)
  END AS reason,
  -- A line that cannot be parsed still belongs to a date when its text shows one. An event_date
  -- that its timestamp contradicts is not trusted: such a line belongs to no date. Nor does a
  -- quarantined line whose date lies outside the run's range of dates (macros.sql, the rule
  -- date_out_of_range): a corrupt 99991231 or 19700101 must not make a day of its own.
  CASE WHEN l.early_reason = 'event_date_mismatch' THEN NULL
       WHEN l.event_date IS NOT NULL AND l.early_reason IS NULL THEN l.event_date
       ELSE dated_in_range(coalesce(l.event_date, try_strptime(nullif(regexp_extract(t.raw_line, '"event_date"\s*:\s*"([0-9]{8})"', 1), ''), '%Y%m%d')::DATE))
  END AS event_date,
  l.has_session,
  -- Only the first copy of a quarantined line keeps its text; a duplicate read it to settle alike.
  CASE WHEN NOT l.is_duplicate THEN t.raw_line END AS raw_line,
  -- A line that is not UTF-8 keeps its exact bytes too (raw_line shows U+FFFD for them).
  CASE WHEN NOT l.is_duplicate THEN t.raw_bytes END AS raw_bytes
FROM _line_events AS l
LEFT JOIN _line_text AS t ON t.file_idx = l.kept_file_idx AND t.line_no = l.kept_line_no;
DROP TABLE _line_events;

CREATE OR REPLACE TEMP VIEW _run_clean AS
SELECT
  s.*,
  e.event_name, e.event_ts, e.user_pseudo_id, e.session_id, e.device_category, e.country, e.source,
  e.medium, e.transaction_id, e.purchase_revenue, e.ads_storage
FROM _run_settled AS s
JOIN _run_events AS e ON e.rowid = s.event_rowid;
