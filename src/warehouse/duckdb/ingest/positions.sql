-- Aligns the two scans and finds duplicates, over all files of the run, on narrow columns only:
-- one row per non-blank line with its line number, the rowid of its parsed event (the k-th
-- non-blank line of a file is the file's k-th event) and, for a duplicate, the copy that is kept
-- (the first of byte-identical lines in input order, daily files before intraday ones: an intraday
-- copy of a daily line must not be the kept one, since intraday lines of a daily date are left out).
CREATE OR REPLACE TEMP TABLE _line_positions AS
WITH numbered AS (
  SELECT
    l.file_idx,
    l.line_no,
    f.first_event_rowid + l.event_no - 1 AS event_rowid,
    l.line_hash,
    l.line_len,
    f.intraday
  FROM _run_lines AS l
  JOIN _run_files AS f USING (file_idx)
  WHERE NOT l.is_blank
)
SELECT
  file_idx, line_no, event_rowid,
  row_number() OVER copies > 1 AS is_duplicate,
  first_value(file_idx) OVER copies AS kept_file_idx,
  first_value(line_no) OVER copies AS kept_line_no
FROM numbered
WINDOW copies AS (PARTITION BY line_hash, line_len ORDER BY intraday, file_idx, line_no);
