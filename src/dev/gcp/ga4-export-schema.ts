// The schema of GA4's BigQuery export (`events_YYYYMMDD`), every column Google documents
// (developers.google.com/analytics/bigquery/event-schema), with its nested and repeated records.
// The local BigQuery (`cartlens dev gcp`) loads export files into it, and the ZetaSQL analyzer
// test resolves cartlens' reads of the export against it, so a misspelt or missing field fails
// before it reaches a customer's project.
import { T, type Columns } from './types.js';

const s = T.string;
const i = T.int64;
const f = T.float64;

/** `{key, value: {string_value, int_value, float_value, double_value}}`, as event and item parameters are. */
const keyValue = (extra: Columns = []) =>
  T.array(
    T.struct([
      ['key', s],
      ['value', T.struct([['string_value', s], ['int_value', i], ['float_value', f], ['double_value', f], ...extra])],
    ]),
  );

const manualCampaign = T.struct([
  ['campaign_id', s], ['campaign_name', s], ['source', s], ['medium', s], ['term', s], ['content', s],
  ['source_platform', s], ['creative_format', s], ['marketing_tactic', s],
]);

export const GA4_EXPORT_COLUMNS: Columns = [
  ['event_date', s],
  ['event_timestamp', i],
  ['event_name', s],
  ['event_params', keyValue()],
  ['event_previous_timestamp', i],
  ['event_value_in_usd', f],
  ['event_bundle_sequence_id', i],
  ['event_server_timestamp_offset', i],
  ['user_id', s],
  ['user_pseudo_id', s],
  ['privacy_info', T.struct([['analytics_storage', s], ['ads_storage', s], ['uses_transient_token', s]])],
  ['user_properties', keyValue([['set_timestamp_micros', i]])],
  ['user_first_touch_timestamp', i],
  ['user_ltv', T.struct([['revenue', f], ['currency', s]])],
  [
    'device',
    T.struct([
      ['category', s], ['mobile_brand_name', s], ['mobile_model_name', s], ['mobile_marketing_name', s],
      ['mobile_os_hardware_model', s], ['operating_system', s], ['operating_system_version', s], ['vendor_id', s],
      ['advertising_id', s], ['language', s], ['is_limited_ad_tracking', s], ['time_zone_offset_seconds', i],
      ['browser', s], ['browser_version', s],
      ['web_info', T.struct([['browser', s], ['browser_version', s], ['hostname', s]])],
    ]),
  ],
  ['geo', T.struct([['city', s], ['country', s], ['continent', s], ['region', s], ['sub_continent', s], ['metro', s]])],
  ['app_info', T.struct([['id', s], ['version', s], ['install_store', s], ['firebase_app_id', s], ['install_source', s]])],
  ['traffic_source', T.struct([['name', s], ['medium', s], ['source', s]])],
  ['stream_id', s],
  ['platform', s],
  ['event_dimensions', T.struct([['hostname', s]])],
  [
    'ecommerce',
    T.struct([
      ['total_item_quantity', i], ['purchase_revenue_in_usd', f], ['purchase_revenue', f], ['refund_value_in_usd', f],
      ['refund_value', f], ['shipping_value_in_usd', f], ['shipping_value', f], ['tax_value_in_usd', f], ['tax_value', f],
      ['unique_items', i], ['transaction_id', s],
    ]),
  ],
  [
    'items',
    T.array(
      T.struct([
        ['item_id', s], ['item_name', s], ['item_brand', s], ['item_variant', s], ['item_category', s],
        ['item_category2', s], ['item_category3', s], ['item_category4', s], ['item_category5', s],
        ['price_in_usd', f], ['price', f], ['quantity', i], ['item_revenue_in_usd', f], ['item_revenue', f],
        ['item_refund_in_usd', f], ['item_refund', f], ['coupon', s], ['affiliation', s], ['location_id', s],
        ['item_list_id', s], ['item_list_name', s], ['item_list_index', s], ['promotion_id', s], ['promotion_name', s],
        ['creative_name', s], ['creative_slot', s], ['item_params', keyValue()],
      ]),
    ),
  ],
  [
    'collected_traffic_source',
    T.struct([
      ['manual_campaign_id', s], ['manual_campaign_name', s], ['manual_source', s], ['manual_medium', s],
      ['manual_term', s], ['manual_content', s], ['manual_source_platform', s], ['manual_creative_format', s],
      ['manual_marketing_tactic', s], ['gclid', s], ['dclid', s], ['srsltid', s],
    ]),
  ],
  ['is_active_user', T.bool],
  ['batch_event_index', i],
  ['batch_page_id', i],
  ['batch_ordering_id', i],
  [
    'session_traffic_source_last_click',
    T.struct([
      ['manual_campaign', manualCampaign],
      [
        'google_ads_campaign',
        T.struct([['customer_id', s], ['account_name', s], ['campaign_id', s], ['campaign_name', s], ['ad_group_id', s], ['ad_group_name', s]]),
      ],
      [
        'cross_channel_campaign',
        T.struct([
          ['campaign_id', s], ['campaign_name', s], ['source', s], ['medium', s], ['source_platform', s],
          ['default_channel_group', s], ['primary_channel_group', s],
        ]),
      ],
      [
        'sa360_campaign',
        T.struct([
          ['campaign_id', s], ['campaign_name', s], ['source', s], ['medium', s], ['ad_group_id', s], ['ad_group_name', s],
          ['creative_format', s], ['engine_account_name', s], ['engine_account_type', s], ['manager_account_name', s],
        ]),
      ],
      [
        'cm360_campaign',
        T.struct([
          ['campaign_id', s], ['campaign_name', s], ['source', s], ['medium', s], ['account_id', s], ['account_name', s],
          ['advertiser_id', s], ['advertiser_name', s], ['creative_id', s], ['creative_format', s], ['creative_name', s],
          ['creative_type', s], ['creative_type_id', s], ['creative_version', s], ['placement_id', s],
          ['placement_cost_structure', s], ['placement_name', s], ['rendering_id', s], ['site_id', s], ['site_name', s],
        ]),
      ],
      [
        'dv360_campaign',
        T.struct([
          ['campaign_id', s], ['campaign_name', s], ['source', s], ['medium', s], ['partner_id', s], ['partner_name', s],
          ['advertiser_id', s], ['advertiser_name', s], ['creative_id', s], ['creative_name', s], ['creative_format', s],
          ['exchange_id', s], ['exchange_name', s], ['insertion_order_id', s], ['insertion_order_name', s],
          ['line_item_id', s], ['line_item_name', s],
        ]),
      ],
    ]),
  ],
  ['publisher', T.struct([['ad_revenue_in_usd', f], ['ad_format', s], ['ad_source_name', s], ['ad_unit_id', s]])],
];
