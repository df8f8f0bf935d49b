-- materialized: partitioned
-- description: The abandoned carts with their raw user id and the items left in them (one row per cart and item with net units > 0), kept under retention.staged_days so that cart_recoveries matches later purchases on the raw id, whatever user_key secret was used.
SELECT
  s.event_date AS date,
  s.user_pseudo_id,
  s.session_id,
  s.last_cart_event_ts,
  {{ money(s.cart_value) }} AS cart_value,
  l.item_id
FROM {{ ref('int_sessions') }} AS s
JOIN {{ ref('int_cart_lines') }} AS l
  ON l.event_date = s.event_date AND l.user_pseudo_id = s.user_pseudo_id AND l.session_id = s.session_id
WHERE s.is_abandoned AND l.net_units > 0
