-- Each file's lines, blank lines and events, with the first rowid of its events.
WITH l AS (SELECT file_idx, count(*) AS lines, count(*) FILTER (WHERE is_blank) AS blank FROM _run_lines GROUP BY file_idx),
     e AS (SELECT file_idx, count(*) AS events, min(rowid) AS first_rowid FROM _run_events GROUP BY file_idx)
SELECT l.file_idx, l.lines::BIGINT AS lines, l.blank::BIGINT AS blank,
       coalesce(e.events, 0)::BIGINT AS events, coalesce(e.first_rowid, 0)::BIGINT AS first_event_rowid
FROM l LEFT JOIN e USING (file_idx);
