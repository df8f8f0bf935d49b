-- The items of every parsed event, typed, one row per item, with the item rules of the contract
-- (8–10: quantity a positive integer, price and item_revenue finite numbers, when present).
-- Vectorized over unnested rows rather than per list: an order of magnitude faster.
CREATE OR REPLACE TEMP TABLE _run_items AS
WITH unnested AS (
  SELECT rowid AS event_rowid, unnest(items) AS item, generate_subscripts(items, 1) AS item_index
  FROM _run_events
  WHERE items IS NOT NULL AND len(items) > 0
),
typed AS (
  SELECT
    event_rowid,
    item_index,
    nullif(item.item_id, '') AS item_id,
    nullif(item.item_name, '') AS item_name,
    nullif(item.item_category, '') AS item_category,
    item.price IS NOT NULL AS price_present,
    item.quantity IS NOT NULL AS quantity_present,
    item.item_revenue IS NOT NULL AS item_revenue_present,
    cl_money(json_type(item.price), item.price::VARCHAR) AS price,
    cl_integer(json_type(item.quantity), item.quantity::VARCHAR) AS quantity,
    cl_money(json_type(item.item_revenue), item.item_revenue::VARCHAR) AS item_revenue
  FROM unnested
)
SELECT
  event_rowid, item_index, item_id, item_name, item_category, price, quantity, item_revenue,
  CASE
    WHEN quantity_present AND coalesce(quantity <= 0, true) THEN 1
    WHEN price_present AND price IS NULL THEN 2
    WHEN item_revenue_present AND item_revenue IS NULL THEN 3
  END AS problem
FROM typed;

-- The event's item rule: the first rule (in the contract's order) that any of its items breaks.
CREATE OR REPLACE TEMP TABLE _item_reasons AS
SELECT event_rowid, CASE min(problem) WHEN 1 THEN 'invalid_item_quantity' WHEN 2 THEN 'invalid_item_price' ELSE 'invalid_item_revenue' END AS late_reason
FROM _run_items
WHERE problem IS NOT NULL
GROUP BY event_rowid;
