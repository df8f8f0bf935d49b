-- materialized: partitioned
-- description: Item-level cart metrics, one row per date and item_id with any count above 0.
-- assert unique: date, item_id
-- assert not_null: date, item_id
-- assert row: views >= 0 AND add_to_cart_units >= 0 AND remove_from_cart_units >= 0 AND purchased_units >= 0 AND abandoned_units >= 0
-- assert row: cart_to_purchase_rate IS NULL OR cart_to_purchase_rate >= 0
-- assert volume: COUNT(*) within 0.5 (warn)
WITH item_events AS (
  SELECT * FROM {{ ref('int_item_events') }}
),
-- Name and category: the most frequent non-empty value that day; ties: the smallest.
names AS (
  SELECT event_date, item_id, item_name
  FROM (
    SELECT event_date, item_id, item_name,
      ROW_NUMBER() OVER (PARTITION BY event_date, item_id ORDER BY COUNT(*) DESC, item_name) AS position
    FROM item_events
    WHERE item_name IS NOT NULL
    GROUP BY event_date, item_id, item_name
  ) AS ranked
  WHERE position = 1
),
categories AS (
  SELECT event_date, item_id, item_category
  FROM (
    SELECT event_date, item_id, item_category,
      ROW_NUMBER() OVER (PARTITION BY event_date, item_id ORDER BY COUNT(*) DESC, item_category) AS position
    FROM item_events
    WHERE item_category IS NOT NULL
    GROUP BY event_date, item_id, item_category
  ) AS ranked
  WHERE position = 1
),
activity AS (
  SELECT
    event_date, item_id,
    -- A view_item event counts once per item, however often it lists it.
    COUNT(DISTINCT CASE WHEN event_name = 'view_item' THEN input_seq END) AS views,
    SUM(CASE WHEN event_name = 'add_to_cart' THEN quantity ELSE 0 END) AS add_to_cart_units,
    SUM(CASE WHEN event_name = 'remove_from_cart' THEN quantity ELSE 0 END) AS remove_from_cart_units
  FROM item_events
  GROUP BY event_date, item_id
),
-- Each transaction counts once: the items of its first purchase event in input order.
purchased AS (
  SELECT
    i.event_date, i.item_id,
    SUM(i.quantity) AS purchased_units,
    SUM(COALESCE(i.item_revenue, COALESCE(i.price, 0) * i.quantity)) AS purchased_revenue
  FROM item_events AS i
  JOIN {{ ref('int_transactions') }} AS t
    ON t.event_date = i.event_date AND t.first_input_seq = i.input_seq
  WHERE i.event_name = 'purchase'
  GROUP BY i.event_date, i.item_id
),
abandoned AS (
  SELECT l.event_date, l.item_id, SUM(l.net_units) AS abandoned_units, SUM(l.net_units * l.cart_price) AS abandoned_value
  FROM {{ ref('int_cart_lines') }} AS l
  JOIN {{ ref('int_sessions') }} AS s
    ON s.event_date = l.event_date AND s.user_pseudo_id = l.user_pseudo_id AND s.session_id = l.session_id
  WHERE s.is_abandoned AND l.net_units > 0
  GROUP BY l.event_date, l.item_id
)
SELECT
  a.event_date AS date,
  a.item_id,
  n.item_name,
  c.item_category,
  a.views,
  a.add_to_cart_units,
  a.remove_from_cart_units,
  COALESCE(p.purchased_units, 0) AS purchased_units,
  {{ money(COALESCE(p.purchased_revenue, 0)) }} AS purchased_revenue,
  {{ rate(COALESCE(p.purchased_units, 0), a.add_to_cart_units) }} AS cart_to_purchase_rate,
  COALESCE(ab.abandoned_units, 0) AS abandoned_units,
  {{ money(COALESCE(ab.abandoned_value, 0)) }} AS abandoned_value
FROM activity AS a
LEFT JOIN names AS n ON n.event_date = a.event_date AND n.item_id = a.item_id
LEFT JOIN categories AS c ON c.event_date = a.event_date AND c.item_id = a.item_id
LEFT JOIN purchased AS p ON p.event_date = a.event_date AND p.item_id = a.item_id
LEFT JOIN abandoned AS ab ON ab.event_date = a.event_date AND ab.item_id = a.item_id
WHERE a.views > 0 OR a.add_to_cart_units > 0 OR a.remove_from_cart_units > 0
   OR COALESCE(p.purchased_units, 0) > 0 OR COALESCE(ab.abandoned_units, 0) > 0
