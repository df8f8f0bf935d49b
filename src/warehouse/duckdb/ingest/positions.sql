-- Aligns the two scans and finds duplicates, over all segments of the run, on narrow columns
-- only: one row per non-blank line with its line number in its file, the rowid of its parsed
-- event (the k-th non-blank line of a segment is the segment's k-th event) and, for a duplicate,
-- the copy that is kept (the first of byte-identical lines in input order). Also each event's
-- item rule: the first rule (in the contract's order) that any of its items breaks.
CREATE OR REPLACE TEMP TABLE _line_positions AS
WITH numbered AS (
  SELECT
    s.file_idx,
    l.rowid AS line_rowid,
    s.first_line_no + (l.rowid - s.first_line_rowid) AS line_no,
    s.first_event_rowid + row_number() OVER (PARTITION BY s.file_idx, s.segment_idx ORDER BY l.rowid) - 1 AS event_rowid,
    l.line_hash,
    l.line_len
  FROM _run_lines AS l
  ASOF JOIN _run_segments AS s ON l.rowid >= s.first_line_rowid
  WHERE NOT l.is_blank
)
SELECT
  file_idx, line_rowid, line_no, event_rowid,
  row_number() OVER copies > 1 AS is_duplicate,
  first_value(line_rowid) OVER copies AS kept_line_rowid
FROM numbered
WINDOW copies AS (PARTITION BY line_hash, line_len ORDER BY file_idx, line_no);

CREATE OR REPLACE TEMP TABLE _item_reasons AS
SELECT event_rowid, CASE min(problem) WHEN 1 THEN 'invalid_item_quantity' WHEN 2 THEN 'invalid_item_price' ELSE 'invalid_item_revenue' END AS late_reason
FROM _run_items
WHERE problem IS NOT NULL
GROUP BY event_rowid;
