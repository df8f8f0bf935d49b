import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { csvContent, formatCsv } from '../src/exports/csv.js';
import type { PublishedTable } from '../src/contract/tables.js';

const table: PublishedTable = {
  name: 't',
  doc: '',
  key: ['item_id'],
  columns: [
    { name: 'item_id', kind: 'text', doc: '' },
    { name: 'item_name', kind: 'text', doc: '' },
    { name: 'units', kind: 'integer', doc: '' },
    { name: 'value', kind: 'money', doc: '' },
  ],
};

const toCsv = (t: PublishedTable, rows: Record<string, string | null>[]) => formatCsv(t, rows.map((r) => t.columns.map((c) => r[c.name] ?? null)), true);

describe('CSV files', () => {
  const hostile = [
    '=HYPERLINK("http://x","y")', '+55 11', '-1', '@SUM(A1)', '\tTab', '\rReturn', '\nLine feed', '\n=1+1',
    'vírgula, "aspas"', 'linha 1\nlinha 2', 'Ação Coração São João ñ ü 日本', '', ' espaço ',
  ];

  it('round-trips commas, quotes, newlines and accents, guarding formula-like text cells only', () => {
    const rows = hostile.map((name, i) => ({ item_id: `id${i}`, item_name: name, units: '-3', value: '-1.50' }));
    const csv = toCsv(table, rows);
    expect(csv.startsWith('item_id,item_name,units,value\n')).toBe(true);
    expect(csv.endsWith('\n')).toBe(true);
    const back = parse(csv, { columns: true }) as Record<string, string>[];
    expect(back.map((r) => r.item_name)).toEqual(hostile.map((h) => (/^[=+\-@\t\r\n]/.test(h) ? `'${h}` : h)));
    // Numbers are never prefixed, even negative ones.
    expect(back.every((r) => r.units === '-3' && r.value === '-1.50')).toBe(true);
  });

  it('writes control characters (but tab, CR, LF) as their visible Control Pictures, one to one', async () => {
    const names = ['A\u0000B', 'A\u0001B', 'bell\u0007', '\u001b[31mred', 'del\u007f', '\u0000=1', 'tab\tcr\rlf\n'];
    const csv = toCsv(table, names.map((name, i) => ({ item_id: name, item_name: name, units: String(i), value: null })));
    // eslint-disable-next-line no-control-regex -- no control character may be left
    expect(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(csv)).toBe(false);
    const back = parse(csv, { columns: true }) as Record<string, string>[];
    const expected = ['A\u2400B', 'A\u2401B', 'bell\u2407', '\u241b[31mred', 'del\u2421', '\u2400=1', 'tab\tcr\rlf\n'];
    expect(back.map((r) => r.item_name)).toEqual(expected);
    // Keys stay distinct: two ids that differ only in a control character are two ids.
    expect(back.map((r) => r.item_id)).toEqual(expected);
    expect(new Set(back.map((r) => r.item_id)).size).toBe(names.length);
  });

  it('writes NULL as an empty field and quotes only what needs it', () => {
    const csv = toCsv(table, [{ item_id: 'a', item_name: null, units: '1', value: null }, { item_id: 'b', item_name: 'x,y', units: '2', value: '0.10' }]);
    expect(csv).toBe('item_id,item_name,units,value\na,,1,\nb,"x,y",2,0.10\n');
  });

  it('is UTF-8 without a byte-order mark', () => {
    const csv = toCsv(table, [{ item_id: 'ç', item_name: 'São', units: '1', value: '1.00' }]);
    expect(Buffer.from(csv, 'utf8')[0]).toBe('i'.charCodeAt(0));
    expect(Buffer.from(csv, 'utf8').includes(Buffer.from('São', 'utf8'))).toBe(true);
  });

  it('streams batches after one header and counts the rows', async () => {
    async function* batches() {
      yield [['a', 'x', '1', '1.00']];
      yield [];
      yield [['b', '=y', '2', null], ['c', null, '3', '0.50']];
    }
    const content = csvContent(table, batches());
    let text = '';
    for await (const chunk of content.chunks) text += chunk;
    expect(text).toBe("item_id,item_name,units,value\na,x,1,1.00\nb,'=y,2,\nc,,3,0.50\n");
    expect(content.rowCount()).toBe(3);
  });
});

describe('the data dictionary', () => {
  it('is current with the published tables (npm run data-dictionary)', async () => {
    const { readFile } = await import('node:fs/promises');
    const { dataDictionary } = await import('../src/exports/data-dictionary.js');
    expect(await readFile('docs/data-dictionary.md', 'utf8')).toBe(dataDictionary());
  });
});
