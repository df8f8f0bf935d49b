// GA4's BigQuery export schema, kept once in src/dev/gcp/ (the local BigQuery loads export files
// into it; the analyzer resolves cartlens' reads of the export against it).
export { GA4_EXPORT_COLUMNS } from '../../../src/dev/gcp/ga4-export-schema.js';
