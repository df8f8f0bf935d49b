-- The run's file list and kept line texts, empty; what an earlier run of this session left goes.
CREATE OR REPLACE TEMP TABLE _run_files (
  file_idx INTEGER, source_file VARCHAR, landed_sha256 VARCHAR, lines BIGINT, blank_lines BIGINT,
  first_event_rowid BIGINT, intraday BOOLEAN, named_date DATE);
CREATE OR REPLACE TEMP TABLE _line_text (file_idx INTEGER, line_no BIGINT, raw_line VARCHAR, raw_bytes BLOB);
CREATE OR REPLACE TEMP TABLE _run_left_out (file_idx INTEGER, event_date DATE, intraday BOOLEAN, lines BIGINT);
CREATE OR REPLACE TEMP TABLE _suspect_text (file_idx INTEGER, line_no BIGINT, line VARCHAR);
DROP VIEW IF EXISTS _run_clean; DROP TABLE IF EXISTS _run_lines; DROP TABLE IF EXISTS _run_events;
