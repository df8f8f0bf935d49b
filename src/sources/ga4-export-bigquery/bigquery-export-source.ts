import type { BigQueryExportSource } from '../source.js';

/** GA4's BigQuery export tables, `project.dataset.events_YYYYMMDD`. */
export function bigQueryExportSource(project: string, dataset: string, intraday = false): BigQueryExportSource {
  return { kind: 'bigquery-export', description: `GA4 BigQuery export ${project}.${dataset}.events_*`, identity: `ga4-export-bigquery:${project}.${dataset}`, project, dataset, intraday };
}
