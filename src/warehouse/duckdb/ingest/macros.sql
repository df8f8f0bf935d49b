-- Helpers for scan-events.sql, given a JSON value's type (json_type) and its raw text.
-- "Integer" as the contract defines it: a JSON number with an integral value or a string of ASCII
-- digits. Values outside BIGINT count as invalid (docs/cleaning.md).
CREATE OR REPLACE TEMP MACRO cl_digits(value_type, value_text) AS
  CASE WHEN value_type = 'VARCHAR' AND regexp_full_match(value_text, '"[0-9]+"') THEN TRY_CAST(value_text[2:-2] AS BIGINT) END;
CREATE OR REPLACE TEMP MACRO cl_integer(value_type, value_text) AS
  CASE
    WHEN value_type IN ('UBIGINT', 'BIGINT') THEN TRY_CAST(value_text AS BIGINT)
    WHEN value_type = 'DOUBLE' THEN CASE WHEN TRY_CAST(value_text AS DOUBLE) = trunc(TRY_CAST(value_text AS DOUBLE))
                                         THEN TRY_CAST(TRY_CAST(value_text AS DOUBLE) AS BIGINT) END
    WHEN value_type = 'VARCHAR' THEN cl_digits(value_type, value_text)
  END;
-- A finite JSON number (never a string), as money. Read through DOUBLE, as the JSON parser reads
-- it; magnitudes beyond DECIMAL(38,9) count as invalid.
CREATE OR REPLACE TEMP MACRO cl_money(value_type, value_text) AS
  CASE WHEN value_type IN ('UBIGINT', 'BIGINT', 'DOUBLE') AND isfinite(TRY_CAST(value_text AS DOUBLE))
       THEN TRY_CAST(TRY_CAST(value_text AS DOUBLE) AS DECIMAL(38, 9)) END;
-- purchase_revenue: a number, or a string holding one (BigQuery's JSON export writes NUMERIC-like
-- values as strings); anything else is NULL, which the models count as 0.
CREATE OR REPLACE TEMP MACRO cl_revenue(value_type, value_text) AS
  CASE WHEN value_type = 'VARCHAR' AND isfinite(TRY_CAST(value_text[2:-2] AS DOUBLE))
       THEN TRY_CAST(TRY_CAST(value_text[2:-2] AS DOUBLE) AS DECIMAL(38, 9))
       ELSE cl_money(value_type, value_text) END;
