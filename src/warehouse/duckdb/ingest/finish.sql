-- Settles each line of the run: duplicate or not, its quarantine reason (first rule broken, in
-- the contract's order), and its date (for a line that cannot be parsed: read from its text when
-- it shows one). Result: `_run_clean`, one row per non-blank line.
CREATE OR REPLACE TEMP TABLE _run_clean AS
WITH settled AS (
  SELECT
    l.* EXCLUDE (early_reason, shape_reason, late_reason, event_date),
    d.line_no IS NOT NULL AS is_duplicate,
    t.raw_line,
    CASE
      -- Nothing was read from the line: not a JSON object, or an object DuckDB could not read.
      WHEN l.no_fields THEN CASE WHEN json_type(try(CAST(t.raw_line AS JSON))) = 'OBJECT'
                                      AND nullif(json_extract_string(t.raw_line, '$.event_name'), '') IS NULL
                                 THEN 'missing_event_name' ELSE 'invalid_json' END
      ELSE coalesce(l.early_reason, l.shape_reason, l.late_reason)
    END AS reason,
    coalesce(l.event_date, try_strptime(nullif(regexp_extract(t.raw_line, '"event_date"\s*:\s*"([0-9]{8})"', 1), ''), '%Y%m%d')::DATE) AS event_date
  FROM _run_lines AS l
  LEFT JOIN _duplicate_lines AS d ON d.file_idx = l.file_idx AND d.line_no = l.line_no
  -- A duplicate reads the text of the copy that was kept, so both settle alike.
  LEFT JOIN _line_text AS t ON t.file_idx = coalesce(d.kept_file_idx, l.file_idx) AND t.line_no = coalesce(d.kept_line_no, l.line_no)
)
SELECT
  *,
  -- Input order: files sorted by path, then lines.
  (file_idx::BIGINT << 40) + line_no AS input_seq
FROM settled;
