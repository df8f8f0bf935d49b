/**
 * Why an event is set aside (the contract's Cleaning 2, shared/spec/cart-metrics.md): one reason
 * per event, the first rule it breaks, in this order. The warehouses' staging SQL writes these
 * codes (test/contract-quarantine.test.ts holds the two equal); the run report counts them
 * (`quarantined_by_reason`) and the data dictionary lists them.
 */
export const QUARANTINE_REASONS = [
  { reason: 'invalid_json', doc: 'The line is not valid JSON, or not a JSON object.' },
  { reason: 'missing_event_name', doc: '`event_name` is missing or empty.' },
  { reason: 'missing_user_pseudo_id', doc: '`user_pseudo_id` is missing or empty.' },
  { reason: 'invalid_event_date', doc: '`event_date` is not a valid `YYYYMMDD` date.' },
  { reason: 'invalid_event_timestamp', doc: '`event_timestamp` is not an integer (a number or a digit string).' },
  { reason: 'event_date_mismatch', doc: '`event_date` is more than one day away from the UTC date of `event_timestamp`.' },
  { reason: 'date_out_of_range', doc: '`event_date` is before 2000-01-01, or later than the day after the UTC date on which the run started.' },
  { reason: 'items_not_array', doc: '`items` is present but not an array.' },
  { reason: 'event_params_not_array', doc: '`event_params` is present but not an array.' },
  { reason: 'invalid_item_quantity', doc: "An item's `quantity` is present but not a positive integer." },
  { reason: 'quantity_out_of_range', doc: "An item's `quantity` is more than 1,000,000." },
  { reason: 'invalid_item_price', doc: "An item's `price` is present but not a finite number." },
  { reason: 'invalid_item_revenue', doc: "An item's `item_revenue` is present but not a finite number." },
  { reason: 'value_out_of_range', doc: "An item's `price` or `item_revenue`, or `ecommerce.purchase_revenue`, has a magnitude of 1,000,000,000 or more." },
] as const satisfies readonly { reason: string; doc: string }[];

export type QuarantineReason = (typeof QUARANTINE_REASONS)[number]['reason'];
