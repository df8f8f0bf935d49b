-- Helpers for the scans, given a JSON value's type (json_type) and its raw text.
-- "Integer" as the contract defines it: a JSON number with an integral value or a string of ASCII
-- digits. Values outside BIGINT count as invalid (docs/decisions.md).
CREATE OR REPLACE TEMP MACRO cl_digits(value_type, value_text) AS
  CASE WHEN value_type = 'VARCHAR' AND regexp_full_match(value_text, '"[0-9]+"') THEN TRY_CAST(value_text[2:-2] AS BIGINT) END;
CREATE OR REPLACE TEMP MACRO cl_integer(value_type, value_text) AS
  CASE
    WHEN value_type IN ('UBIGINT', 'BIGINT') THEN TRY_CAST(value_text AS BIGINT)
    -- A number with a fraction or an exponent, as the JSON reader holds it: a double.
    WHEN value_type = 'DOUBLE' THEN CASE WHEN TRY_CAST(value_text AS DOUBLE) = trunc(TRY_CAST(value_text AS DOUBLE))
                                         THEN TRY_CAST(TRY_CAST(value_text AS DOUBLE) AS BIGINT) END
    WHEN value_type = 'VARCHAR' THEN cl_digits(value_type, value_text)
  END;
-- A number's text as exact money. Below 10^6 through DOUBLE, which is fast and, at 15 significant
-- digits, exact once rounded to 9 decimals; above, from the text (DOUBLE would drift).
-- Magnitudes beyond DECIMAL(38,9) are NULL: not a finite number.
CREATE OR REPLACE TEMP MACRO cl_decimal(number_text) AS
  CASE WHEN NOT isfinite(TRY_CAST(number_text AS DOUBLE)) THEN NULL
       WHEN abs(TRY_CAST(number_text AS DOUBLE)) < 1e6 THEN TRY_CAST(TRY_CAST(number_text AS DOUBLE) AS DECIMAL(38, 9))
       ELSE TRY_CAST(number_text AS DECIMAL(38, 9)) END;
-- A finite JSON number (never a string), as money.
CREATE OR REPLACE TEMP MACRO cl_money(value_type, value_text) AS
  CASE WHEN value_type IN ('UBIGINT', 'BIGINT', 'DOUBLE') THEN cl_decimal(value_text) END;
-- A JSON number as the IEEE double the contract reads it as (never a string), else NULL.
CREATE OR REPLACE TEMP MACRO cl_number(value_type, value_text) AS
  CASE WHEN value_type IN ('UBIGINT', 'BIGINT', 'DOUBLE') THEN TRY_CAST(value_text AS DOUBLE) END;
-- The text of purchase_revenue's number: a JSON number, or a string of a plain decimal number
-- (`-?[0-9]+(\.[0-9]+)?`: BigQuery's JSON export writes NUMERIC values as strings, `"31.0"`);
-- anything else is NULL, which the models count as 0 (Cleaning 6).
CREATE OR REPLACE TEMP MACRO cl_revenue_text(value_type, value_text) AS
  CASE WHEN value_type IN ('UBIGINT', 'BIGINT', 'DOUBLE') THEN value_text
       WHEN value_type = 'VARCHAR' AND regexp_full_match(json_extract_string(value_text, '$'), '-?[0-9]+(\.[0-9]+)?')
         THEN json_extract_string(value_text, '$') END;
-- Whether a number (a double) is money no cart holds: magnitude 10^9 or more, infinities included
-- (value_out_of_range; sums of such values overflow DECIMAL(38,9)).
CREATE OR REPLACE TEMP MACRO cl_money_out_of_range(number) AS NOT isnan(number) AND abs(number) >= 1e9;
-- A date a line of this run may belong to, else NULL: from the first date cartlens handles
-- (src/util/dates.ts) to the day after the run's UTC start date (an event cannot come from
-- the future; latestEventDate in src/warehouse/warehouse.ts).
CREATE OR REPLACE TEMP MACRO dated_in_range(d) AS CASE WHEN d BETWEEN {{earliest_event_date}} AND {{latest_event_date}} THEN d END;
