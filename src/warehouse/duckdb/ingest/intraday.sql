-- With GA4's intraday files in the input (source.intraday), each date is computed from one kind
-- of input, never both: from the daily input when it has any for the date (a daily file named for
-- the date, or lines of it in a daily file named for no date), else from the intraday files.
-- What the other kind brought for a date is left out of the run's lines and counted per file and
-- date (_run_left_out): intraday lines of a daily date (replaced by the daily data), and lines of
-- daily files named for another date for a date that only intraday files have so far (they count
-- once that date's daily file comes). The lines stay in the landed copies of their files.
INSERT INTO _run_left_out
WITH daily_dates AS (
  SELECT named_date AS event_date FROM _run_files WHERE NOT intraday AND named_date IS NOT NULL
  UNION
  SELECT s.event_date FROM _run_settled AS s JOIN _run_files AS f USING (file_idx)
  WHERE NOT f.intraday AND f.named_date IS NULL AND s.event_date IS NOT NULL
),
intraday_dates AS (
  SELECT s.event_date FROM _run_settled AS s JOIN _run_files AS f USING (file_idx)
  WHERE f.intraday AND s.event_date IS NOT NULL
  EXCEPT
  SELECT event_date FROM daily_dates
)
SELECT s.file_idx, s.event_date, f.intraday, count(*)::BIGINT AS lines
FROM _run_settled AS s JOIN _run_files AS f USING (file_idx)
WHERE (f.intraday AND s.event_date IN (SELECT event_date FROM daily_dates))
   OR (NOT f.intraday AND s.event_date IN (SELECT event_date FROM intraday_dates))
GROUP BY ALL;

DELETE FROM _run_settled AS s
USING _run_left_out AS o
WHERE s.file_idx = o.file_idx AND s.event_date = o.event_date;
