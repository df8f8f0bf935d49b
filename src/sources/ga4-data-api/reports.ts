import type { CartlensConfig } from '../../config/schema.js';
/** A Data API report cartlens fetches: dimensions × metrics, one date at a time. */
export interface ReportDefinition {
  /** Names the raw table (`raw_ga4_api_<name>`) and the published table. */
  name: string;
  dimensions: string[];
  metrics: string[];
}

/**
 * The default cart reports (overridable in config). GA4's own definitions, from its Data API
 * schema: itemsViewed — "Number of units viewed for a single item"; itemsAddedToCart — "Number
 * of units added to cart for a single item"; itemsCheckedOut — "Number of units checked out for a
 * single item"; itemsPurchased — "Number of units for a single item included in purchase
 * events"; itemRevenue — "Total revenue from purchases minus refunded transaction revenue from
 * items only"; sessions — "The number of sessions that began on your site or app";
 * addToCarts — "The number of times users added items to their shopping carts"; checkouts —
 * "The number of times users started the checkout process"; ecommercePurchases — "The number of
 * times users completed a purchase"; purchaseRevenue — "The sum of revenue from purchases minus
 * refunded transaction revenue"; totalPurchasers — "The number of unique users that made at least
 * one purchase" (a count of distinct users: never summed across rows or days).
 */
export const DEFAULT_REPORTS: ReportDefinition[] = [
  {
    name: 'items',
    dimensions: ['date', 'itemId', 'itemName', 'itemCategory'],
    metrics: ['itemsViewed', 'itemsAddedToCart', 'itemsCheckedOut', 'itemsPurchased', 'itemRevenue'],
  },
  {
    name: 'funnel',
    dimensions: ['date', 'deviceCategory', 'country', 'sessionSourceMedium'],
    metrics: ['sessions', 'addToCarts', 'checkouts', 'ecommercePurchases', 'purchaseRevenue', 'totalPurchasers'],
  },
];

/** Metrics that are not additive: summing them across rows or days is wrong. */
export const NON_ADDITIVE_METRICS = new Set(['totalPurchasers', 'totalUsers', 'activeUsers', 'newUsers', 'sessionConversionRate', 'purchaserConversionRate']);

/** A column of a raw report table: the date, each other dimension as text, each metric as an exact decimal. */
export interface RawReportColumn {
  name: string;
  kind: 'date' | 'text' | 'decimal';
  /** Where a row of the API's response holds the value (0-based), for dimensions and metrics. */
  from?: { dimensionValues: number } | { metricValues: number };
}

/** The columns of `raw_ga4_api_<report>` (snake_case names), as every warehouse loads them, then the run id. */
export function rawReportColumns(report: ReportDefinition): RawReportColumn[] {
  const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  const dimensions = report.dimensions.map((name, i) => ({ name, i })).filter((d) => d.name !== 'date');
  return [
    { name: 'date', kind: 'date' },
    ...dimensions.map((d) => ({ name: snake(d.name), kind: 'text' as const, from: { dimensionValues: d.i } })),
    ...report.metrics.map((m, i) => ({ name: snake(m), kind: 'decimal' as const, from: { metricValues: i } })),
    { name: 'run_id', kind: 'text' },
  ];
}

/** The GA4 Data API reports of a config (its own list, or the default cart reports). */
export function apiReports(config: CartlensConfig): ReportDefinition[] {
  return config.source.type === 'ga4-data-api' ? (config.source.reports ?? DEFAULT_REPORTS) : [];
}
