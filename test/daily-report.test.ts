// The self-contained daily report.html (issue 6, item 4): same numbers as the CSVs, no network.
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { FUNNEL_TILES } from '../src/contract/tables.js';
import { runPipeline } from '../src/pipeline/run.js';
import { renderDailyReport, reportPath } from '../src/reports/daily-report.js';
import { generateDemoExport } from '../src/sources/demo/generator.js';
import { DEMO_DEFAULTS } from '../src/config/schema.js';
import { resultFor, tempDir, writeConfig, type RunResult } from './support/pipeline.js';

/** The contract's funnel tiles: report.html shows each, with the CSV's value. */
const TILE_COLUMNS = FUNNEL_TILES.map((t) => t.column);

function tiles(html: string): Record<string, string> {
  return Object.fromEntries([...html.matchAll(/data-tile="([a-z_]+)" data-value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
}

describe('daily report.html', () => {
  let run: RunResult;
  beforeAll(async () => {
    const dir = await tempDir();
    await generateDemoExport({ ...DEMO_DEFAULTS, outDir: join(dir, 'input'), days: 3, sessionsPerDay: 150 });
    const configFile = await writeConfig(dir, 'locale: pt-BR\n');
    run = resultFor(dir, await runPipeline({ loaded: parseConfig(await readFile(configFile, 'utf8'), configFile) }));
  });

  it('is written beside the CSVs for every published date, with tiles equal to cart_funnel_daily', async () => {
    const published = run.report.dates.filter((d) => d.status === 'published');
    expect(published.length).toBe(3);
    for (const { date } of published) {
      const html = await readFile(join(run.dir, 'exports', reportPath(date)), 'utf8');
      const [funnel] = await run.csv('cart_funnel_daily', date);
      const shown = tiles(html.slice(0, html.indexOf('class="tiles remarketing"')));
      expect(Object.keys(shown)).toEqual(TILE_COLUMNS);
      for (const column of TILE_COLUMNS) expect(shown[column], `${date} ${column}`).toBe(funnel![column]);
      // Remarketable carts (not bought later, consent granted) beside all abandoned carts, from the CSV.
      const carts = await run.csv('abandoned_carts', date);
      const remarketable = carts.filter((c) => c.purchased_later === 'false' && c.ads_consent === 'granted');
      const remarketing = tiles(html.slice(html.indexOf('class="tiles remarketing"')));
      expect(remarketing.abandoned_carts).toBe(String(carts.length));
      expect(remarketing.remarketable).toBe(String(remarketable.length));
      const cents = remarketable.reduce((sum, c) => sum + Math.round(Number(c.cart_value) * 100), 0);
      expect(remarketing.remarketable_value).toBe((cents / 100).toFixed(2));
      expect(remarketable.length).toBeGreaterThan(0);
      expect(carts.length).toBeGreaterThan(remarketable.length);
      // pt-BR labels and Brazilian real formatting.
      expect(html).toContain('Taxa de abandono de carrinho');
      expect(html).toContain(`R$\u00a0${new Intl.NumberFormat('pt-BR', { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(Number(funnel!.revenue))}`);
    }
  });

  it('lists the items with the most abandoned value, in order, from cart_items_daily', async () => {
    const date = run.report.dates[0]!.date;
    const html = await readFile(join(run.dir, 'exports', reportPath(date)), 'utf8');
    const expected = (await run.csv('cart_items_daily', date))
      .filter((r) => Number(r.abandoned_value) > 0)
      .sort((a, b) => Number(b.abandoned_value) - Number(a.abandoned_value) || a.item_id!.localeCompare(b.item_id!))
      .slice(0, 10)
      .map((r) => r.item_id);
    expect(expected.length).toBeGreaterThan(0);
    expect([...html.matchAll(/data-item-id="([^"]+)"/g)].map((m) => m[1])).toEqual(expected);
    // The funnel chart has its five steps.
    expect(html.match(/<g data-step=/g)).toHaveLength(5);
  });

  it('needs no network: no scripts, links, sources or remote URLs', async () => {
    const html = await readFile(join(run.dir, 'exports', reportPath(run.report.dates[0]!.date)), 'utf8');
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\bsrc=|\bhref=|url\(|@import/i);
    // The only URL is the SVG namespace, which is a name, not a request.
    expect([...html.matchAll(/https?:\/\/[^"'\s)]+/g)].map((m) => m[0])).toEqual(['http://www.w3.org/2000/svg']);
  });
});

describe('renderDailyReport', () => {
  const funnel = {
    sessions: '1234', sessions_with_view_item: '900', sessions_with_add_to_cart: '300', sessions_with_begin_checkout: '120',
    sessions_with_purchase: '60', abandoned_carts: '200', cart_abandonment_rate: '0.6667', purchases: '58', revenue: '1234.5', abandoned_value: '98765.43',
  };
  const items = [
    { item_id: 'A', item_name: 'Tênis <Pro> & "Max"', item_category: 'Calçados', abandoned_units: '3', abandoned_value: '10', cart_to_purchase_rate: '' },
    { item_id: 'B', item_name: 'Bola', item_category: 'Esporte', abandoned_units: '1', abandoned_value: '0', cart_to_purchase_rate: '0.5' },
  ];

  it('formats numbers and money for the locale and currency', () => {
    const en = renderDailyReport('2026-11-01', funnel, items, { locale: 'en', currency: 'USD' });
    expect(en).toContain('>1,234<');
    expect(en).toContain('>$98,765.43<');
    expect(en).toContain('>66.7%<');
    const br = renderDailyReport('2026-11-01', funnel, items, { locale: 'pt-BR', currency: 'BRL' });
    expect(br).toContain('>1.234<');
    expect(br).toContain('>R$\u00a098.765,43<');
    expect(br).toContain('>66,7%<');
    expect(br).toContain('Sessões com carrinho');
  });

  it('escapes item names, leaves an empty rate visibly empty and skips items with nothing abandoned', () => {
    const html = renderDailyReport('2026-11-01', funnel, items, { locale: 'en', currency: 'USD' });
    expect(html).toContain('Tênis &lt;Pro&gt; &amp; &quot;Max&quot;');
    expect(html).not.toContain('<Pro>');
    expect(html).toMatch(/data-item-id="A">.*<td class="num">—<\/td><\/tr>/);
    expect(html).not.toContain('data-item-id="B"');
  });
});
