import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REMARKETABLE_SQL } from '../src/contract/remarketing.js';
import { ALL_PUBLISHED_TABLES, ANOMALY_METRICS, FUNNEL_TILES, metricKind, publishedColumn, publishedTable } from '../src/contract/tables.js';
import { TILES } from '../src/reports/render.js';

async function sourceFiles(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && /\.(ts|sql)$/.test(e.name)).map((e) => join(e.parentPath, e.name));
}

describe('the contract (src/contract/)', () => {
  it("names in each rate's ratio two counts of its own table", () => {
    for (const table of ALL_PUBLISHED_TABLES) {
      for (const column of table.columns.filter((c) => c.metric?.ratio)) {
        expect(column.kind, `${table.name}.${column.name}`).toBe('rate');
        for (const part of column.metric!.ratio!) expect(metricKind(publishedColumn(table, part)), `${table.name}.${column.name}: ${part}`).toBe('count');
      }
    }
  });

  it('gives a metric to every published number (integers but ids, money, rates) and to nothing else', () => {
    const ids = new Set(['session_id']);
    for (const table of ALL_PUBLISHED_TABLES) {
      for (const column of table.columns) {
        const isNumber = ['integer', 'money', 'rate'].includes(column.kind) && !ids.has(column.name);
        expect(column.metric !== undefined, `${table.name}.${column.name}`).toBe(isNumber);
      }
    }
  });

  it("shows as tiles and judges for anomalies only metrics of cart_funnel_daily, each tile with the kind's format", () => {
    const funnel = publishedTable('cart_funnel_daily');
    for (const name of [...FUNNEL_TILES.map((t) => t.column), ...ANOMALY_METRICS]) expect(publishedColumn(funnel, name).metric, name).toBeDefined();
    const formatOf = { count: 'integer', money: 'money', rate: 'rate' } as const;
    expect(TILES.map(([key, , format]) => `${key} ${format}`)).toEqual(FUNNEL_TILES.map((t) => `${t.column} ${formatOf[metricKind(publishedColumn(funnel, t.column))]}`));
    expect(TILES.find(([key]) => key === 'cart_abandonment_rate')?.[2]).toBe('rate');
  });

  it('says what remarketable is in one place: no other source file spells the condition', async () => {
    const files = [...(await sourceFiles('src')), ...(await sourceFiles('scripts'))].filter((f) => !f.startsWith(join('src', 'contract')));
    const spelled: string[] = [];
    for (const file of files) {
      const text = await readFile(file, 'utf8');
      if (/ads_consent\s*=\s*'granted'|NOT\s+purchased_later/i.test(text)) spelled.push(file);
    }
    expect(spelled).toEqual([]);
    expect(REMARKETABLE_SQL).toMatch(/NOT purchased_later/);
  });
});
