-- Whether the JSON reader may read each suspect line as it is (fix, see lines.sql), from the line's
-- text in the scratch copy (_suspect_text): DuckDB's json_valid decides, as for every line before
-- the line index.
UPDATE _run_lines AS l
SET fix = CASE WHEN l.is_blank THEN 0
               WHEN NOT contains(t.line, chr(1)) THEN CASE WHEN json_valid(t.line) THEN 0 ELSE 1 END
               WHEN json_valid(replace(t.line, chr(1), chr(13))) THEN 2
               ELSE 1 END::TINYINT
FROM _suspect_text AS t
WHERE l.file_idx = t.file_idx AND l.line_no = t.line_no;
