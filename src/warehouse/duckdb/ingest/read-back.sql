-- The lines whose text is read back from the scratch copies (first copies only): every line a rule
-- quarantines, and the ones whose items or event_params the JSON reader could not read as arrays.
CREATE OR REPLACE TEMP TABLE _read_back AS
SELECT p.file_idx, p.line_no
FROM _line_positions AS p JOIN _run_events AS e ON e.rowid = p.event_rowid
LEFT JOIN _late_reasons AS ir ON ir.event_rowid = p.event_rowid
WHERE NOT p.is_duplicate
  AND NOT EXISTS (SELECT 1 FROM _line_text AS t WHERE t.file_idx = p.file_idx AND t.line_no = p.line_no)
  AND (e.no_fields OR e.early_reason IS NOT NULL OR ir.late_reason IS NOT NULL OR e.items_missing OR e.params_missing);
