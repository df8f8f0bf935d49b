-- Where lines lie in their files' scratch copies, from the line index (byte_offset): {{files}}
-- selects the files, {{keep}} the lines wanted.
SELECT s.file_idx, s.line_no, s.byte_offset, s.line_len, s.fix
FROM _run_lines AS s
WHERE s.file_idx IN ({{files}}) AND {{keep}}
ORDER BY s.file_idx, s.line_no;
