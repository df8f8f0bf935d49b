import { QUARANTINE_REASONS } from '../contract/quarantine.js';
import { API_TABLES, metricKind, PUBLISHED_TABLES, REMARKETING_AUDIENCE, type PublishedColumn, type PublishedTable } from '../contract/tables.js';

/** How a metric adds up, as a reader of the files should sum it; empty for keys and attributes. */
function measure(column: PublishedColumn): string {
  if (!column.metric) return '';
  if (column.metric.ratio) return `rate of sums: ${column.metric.ratio.map((c) => `\`${c}\``).join(' / ')}`;
  return `${metricKind(column)}, ${column.metric.additive ? 'additive' : 'not additive'}`;
}

const cell = (text: string) => text.replaceAll('|', '\\|');

/** docs/data-dictionary.md, from the contract (src/contract/): tables, columns, measures, quarantine reasons (kept current by a test). */
export function dataDictionary(): string {
  const section = (table: PublishedTable) =>
    [
      `## \`${table.name}\``,
      '',
      `${table.doc} Key (and sort order): ${table.key.map((k) => `\`${k}\``).join(', ')}.`,
      '',
      '| column | type | measure | meaning |',
      '|---|---|---|---|',
      ...table.columns.map((c) => `| \`${c.name}\` | ${c.kind} | ${measure(c)} | ${cell(c.doc)} |`),
      '',
    ].join('\n');
  return [
    '# Data dictionary',
    '',
    'Generated from `src/contract/` (`npm run data-dictionary`); a test fails when it is out of date.',
    'Every number is defined by the contract, `../shared/spec/cart-metrics.md`; file rules (CSV, layout, manifest) apply to every table.',
    'An additive measure of several days or rows is their sum; a rate of sums is computed again from the sums of its counts, never averaged.',
    '',
    '# From GA4 events (BigQuery export or files)',
    '',
    ...PUBLISHED_TABLES.map(section),
    '# Published only with `export.remarketing_audience: true`',
    '',
    section(REMARKETING_AUDIENCE),
    '# From the GA4 Data API',
    '',
    ...API_TABLES.map(section),
    '# Quarantine reasons',
    '',
    'An event set aside is counted under the first of these it breaks, in this order (the run report\'s `quarantined_by_reason`).',
    '',
    '| reason | when |',
    '|---|---|',
    ...QUARANTINE_REASONS.map((r) => `| \`${r.reason}\` | ${cell(r.doc)} |`),
    '',
  ].join('\n');
}
