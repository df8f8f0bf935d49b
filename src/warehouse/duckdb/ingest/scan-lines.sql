-- Pass 1 over a decompressed landed file: one row per physical line, appended in file order
-- (inserts preserve order, so a row's rowid minus the file's first rowid is its line index).
-- Kept: what dedupe needs (the exact bytes' hash and length) and whether the line is blank.
{{into}}
SELECT
  {{file_idx}}::INTEGER AS file_idx,
  hash(line) AS line_hash,
  coalesce(strlen(line), 0)::BIGINT AS line_len,
  CASE WHEN line IS NULL THEN true WHEN starts_with(line, '{') THEN false ELSE regexp_full_match(line, '\s*') END AS is_blank
FROM read_csv({{path}}, columns = {'line': 'VARCHAR'}, header = false, auto_detect = false,
              delim = E'\x1e\x1f\x1d\x1c', quote = '', escape = '', new_line = '\n',
              max_line_size = {{max_line_bytes}});
