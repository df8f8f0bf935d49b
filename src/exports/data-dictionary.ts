import { API_TABLES, PUBLISHED_TABLES, REMARKETING_AUDIENCE, type PublishedTable } from './published-tables.js';

/** docs/data-dictionary.md, from the published tables' column docs (kept current by a test). */
export function dataDictionary(): string {
  const section = (table: PublishedTable) =>
    [
      `## \`${table.name}\``,
      '',
      `${table.doc} Key (and sort order): ${table.key.map((k) => `\`${k}\``).join(', ')}.`,
      '',
      '| column | type | meaning |',
      '|---|---|---|',
      ...table.columns.map((c) => `| \`${c.name}\` | ${c.kind} | ${c.doc.replaceAll('|', '\\|')} |`),
      '',
    ].join('\n');
  return [
    '# Data dictionary',
    '',
    'Generated from `src/exports/published-tables.ts` (`npm run data-dictionary`); a test fails when it is out of date.',
    'Every number is defined by the contract, `../shared/spec/cart-metrics.md`; file rules (CSV, layout, manifest) apply to every table.',
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
  ].join('\n');
}
