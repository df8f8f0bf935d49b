-- Pass 1 over a decompressed landed file: one row per physical line, appended in file order
-- (inserts preserve order, so a row's rowid minus the file's first rowid is its line index).
-- Kept: what dedupe needs (the exact bytes' hash and length), whether the line is blank, and the
-- JSON type of `items` / `event_params` for the rare line where they may not be arrays (pass 2
-- reads a non-array as NULL and cannot tell).
{{into}}
SELECT
  {{file_idx}}::INTEGER AS file_idx,
  hash(line) AS line_hash,
  coalesce(strlen(line), 0)::BIGINT AS line_len,
  CASE WHEN line IS NULL THEN true WHEN starts_with(line, '{') THEN false ELSE regexp_full_match(line, '\s*') END AS is_blank,
  -- Nested CASEs, not AND: only a CASE is sure to skip the parse for the usual line.
  CASE WHEN line IS NULL OR contains(line, '"items":[') THEN NULL
       WHEN json_valid(line) THEN json_type(line, '$.items') END AS items_type,
  CASE WHEN line IS NULL OR contains(line, '"event_params":[') THEN NULL
       WHEN json_valid(line) THEN json_type(line, '$.event_params') END AS params_type
FROM read_csv({{path}}, columns = {'line': 'VARCHAR'}, header = false, auto_detect = false,
              delim = E'\x1e\x1f\x1d\x1c', quote = '', escape = '', new_line = '\n',
              max_line_size = {{max_line_bytes}});
