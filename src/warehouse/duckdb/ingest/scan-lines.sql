-- Pass 1 over the decompressed copies of every landed file, in one statement (each statement pays
-- fixed costs: a day of GA4 export comes as many files): one row per physical line, in file then
-- line order (inserts preserve order, so a row's rowid minus its file's first rowid is its line
-- index; file_index is the file's position in the list, its index in the run).
-- Kept: what dedupe needs (the exact bytes' hash and length), whether the line is blank, and
-- whether the JSON reader may read the line as it is (fix, see ingest.ts):
--   0: yes (blank, or valid JSON on its own);
--   1: no, it is not valid JSON on its own: a line cut short would let the JSON reader run on into
--      the next line, so the line is blanked out for it (its text is kept first);
--   2: valid JSON once its lone CRs (LONE_CR_STANDIN, 0x01) are CRs again: they become spaces.
CREATE OR REPLACE TEMP TABLE _run_lines AS
SELECT
  file_idx, line_hash, line_len, is_blank,
  CASE WHEN is_blank THEN 0
       WHEN NOT contains(line, chr(1)) THEN CASE WHEN json_valid(line) THEN 0 ELSE 1 END
       WHEN json_valid(replace(line, chr(1), chr(13))) THEN 2
       ELSE 1 END::TINYINT AS fix
FROM (
  SELECT
    file_index::INTEGER AS file_idx,
    line,
    hash(line) AS line_hash,
    coalesce(strlen(line), 0)::BIGINT AS line_len,
    CASE WHEN line IS NULL THEN true WHEN starts_with(line, '{') THEN false ELSE regexp_full_match(line, '\s*') END AS is_blank
  FROM read_csv({{paths}}, columns = {'line': 'VARCHAR'}, header = false, auto_detect = false,
                delim = E'\x1e\x1f\x1d\x1c', quote = '', escape = '', new_line = '\n',
                max_line_size = {{max_line_bytes}}, buffer_size = {{buffer_bytes}}, parallel = {{parallel}})
);
