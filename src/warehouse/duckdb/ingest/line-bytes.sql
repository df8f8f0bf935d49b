-- The bytes each file's lines account for, with their line ends.
SELECT file_idx, (sum(line_len) + count(*))::BIGINT AS bytes FROM _run_lines GROUP BY file_idx;
