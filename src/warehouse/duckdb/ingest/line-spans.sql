-- Where lines lie in their files' scratch copies, from the line lengths of the line index: {{files}}
-- selects the files to walk, {{keep}} the lines wanted.
WITH spans AS (
  SELECT file_idx, row_number() OVER w AS line_no, (sum(line_len + 1) OVER w - line_len - 1)::BIGINT AS byte_offset, line_len, fix, suspect
  FROM _run_lines
  WHERE file_idx IN ({{files}})
  WINDOW w AS (PARTITION BY file_idx ORDER BY rowid ROWS UNBOUNDED PRECEDING))
SELECT s.file_idx, s.line_no, s.byte_offset, s.line_len, s.fix
FROM spans AS s
WHERE {{keep}}
ORDER BY s.file_idx, s.line_no;
