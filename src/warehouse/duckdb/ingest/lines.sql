-- The line index of every landed file (src/util/line-index.ts, made while landing), in one
-- statement: one row per physical line, in file then line order (file_index is the file's position
-- in the list, its index in the run).
-- Kept: the line's number, where it starts in a scratch copy and which parsed event is its
-- (event_no), what dedupe needs (the exact bytes' hash and length), whether the line is blank, whether
-- the index found it suspect (only a file with such a line has a scratch copy), and whether the
-- JSON reader may read the line as it is (fix, decided for suspect lines by suspect-fix.sql; 0
-- for every other line, which is valid JSON on its own):
--   0: yes (blank, or valid JSON on its own);
--   1: no, it is not valid JSON on its own: a line cut short would let the JSON reader run on into
--      the next line, so the line is blanked out for it (its text is kept first);
--   2: valid JSON once its lone CRs (LONE_CR_STANDIN, 0x01) are CRs again: they become spaces.
CREATE OR REPLACE TEMP TABLE _run_lines AS
SELECT
  file_index::INTEGER AS file_idx, line_no, line_hash, line_len,
  (flags & 1) = 1 AS is_blank, (flags & 2) = 2 AS suspect, 0::TINYINT AS fix, byte_offset, event_no
FROM read_csv({{paths}}, columns = {'line_no': 'BIGINT', 'line_hash': 'UBIGINT', 'line_len': 'BIGINT', 'flags': 'UTINYINT',
                                    'byte_offset': 'BIGINT', 'event_no': 'BIGINT'},
              header = false, auto_detect = false, delim = ',', quote = '', escape = '', new_line = '\n',
              -- Index rows are short: DuckDB's default buffer (32 MiB, one per thread) would be a
              -- fixed cost that a small warehouse.memory_limit cannot hold.
              buffer_size = 1048576);
