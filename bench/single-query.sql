-- The benchmark's yardstick (bench/pipeline.ts): the one DuckDB query a careful analyst would
-- write over the same gzipped GA4 export files, reading the same typed columns cartlens reads, with
-- no landing, dedupe, quarantine, contract rules or published copies: the day's cart funnel.
COPY (
  WITH events AS (
    SELECT
      try_strptime(event_date, '%Y%m%d')::DATE AS date,
      event_name,
      user_pseudo_id,
      list_filter(event_params, p -> p.key = 'ga_session_id')[1].value.int_value AS session_id,
      len(items) AS item_count,
      ecommerce.purchase_revenue AS revenue,
      device.category AS device_category
    FROM read_json({{files}}, format = 'newline_delimited', ignore_errors = true,
                   columns = {
                     event_date: 'VARCHAR', event_timestamp: 'BIGINT', event_name: 'VARCHAR', user_pseudo_id: 'VARCHAR',
                     event_params: 'STRUCT(key VARCHAR, value STRUCT(int_value BIGINT, string_value VARCHAR))[]',
                     items: 'STRUCT(item_id VARCHAR, item_name VARCHAR, item_category VARCHAR, price DOUBLE, quantity BIGINT, item_revenue DOUBLE)[]',
                     device: 'STRUCT(category VARCHAR)', geo: 'STRUCT(country VARCHAR)',
                     traffic_source: 'STRUCT(source VARCHAR, medium VARCHAR)',
                     ecommerce: 'STRUCT(transaction_id VARCHAR, purchase_revenue DOUBLE)',
                     privacy_info: 'STRUCT(ads_storage VARCHAR)'
                   })
  ),
  sessions AS (
    SELECT
      date, user_pseudo_id, session_id,
      bool_or(event_name = 'add_to_cart') AS added,
      bool_or(event_name = 'purchase') AS purchased,
      sum(revenue) FILTER (WHERE event_name = 'purchase') AS revenue
    FROM events
    WHERE session_id IS NOT NULL AND date IS NOT NULL
    GROUP BY ALL
  )
  SELECT
    date,
    count(*) AS sessions,
    count(*) FILTER (WHERE added) AS sessions_with_add_to_cart,
    count(*) FILTER (WHERE added AND NOT purchased) AS abandoned_carts,
    count(*) FILTER (WHERE purchased) AS purchases,
    round(sum(revenue), 2) AS revenue
  FROM sessions
  GROUP BY date
  ORDER BY date
) TO {{out}} (HEADER);
