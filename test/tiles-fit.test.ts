// Issue 13, item 4: money up to 999,999,999.99 fits its tile at 1280 px, in en and pt-BR, on the
// dashboard and in report.html (both draw tiles with render.ts and its style), in Chromium.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { renderDashboard } from '../src/dashboard/page.js';
import { renderDailyReport } from '../src/reports/daily-report.js';
import { BROWSER_TESTS, launchBrowser } from './support/browser.js';

const HUGE = {
  date: '2026-11-01', sessions: '999999999', sessions_with_view_item: '999999999', sessions_with_add_to_cart: '999999999',
  sessions_with_begin_checkout: '999999999', sessions_with_purchase: '999999999', abandoned_carts: '999999999',
  cart_abandonment_rate: '0.9999', purchases: '999999999', revenue: '999999999.99', abandoned_value: '999999999.99',
};
const CONSENT = [{ consent: 'granted', carts: '999999999', value: '999999999.99', bought_later: '999999999', remarketable: '999999999', remarketable_value: '999999999.99' }];

describe.skipIf(!BROWSER_TESTS.run)('tiles at 1280 px', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(() => browser?.close());

  const pages = {
    'report.html': (format: { locale: 'en' | 'pt-BR'; currency: string }) => renderDailyReport('2026-11-01', HUGE, [], format, CONSENT),
    dashboard: (format: { locale: 'en' | 'pt-BR'; currency: string }) =>
      renderDashboard(
        {
          range: { from: '2026-11-01', to: '2026-11-07' }, previous: { from: '2026-10-25', to: '2026-10-31' }, available: { first: '2026-10-25', last: '2026-11-07' },
          totals: { ...HUGE, days: 7, remarketable: '999999999', remarketable_value: '999999999.99' }, previousTotals: { ...HUGE, days: 7, revenue: '1.00' }, trend: [], topItems: [], breakdowns: { device: [], country: [], sourceMedium: [] }, days: [], revisions: [], consent: CONSENT, anomalies: [], recovery: { days: [], total: null },
        },
        { format, takenAt: null, busy: false, stale: null, links: () => [] },
      ),
  };
  for (const [name, render] of Object.entries(pages)) {
    for (const [locale, currency] of [['en', 'USD'], ['pt-BR', 'BRL'], ['en', 'BRL']] as const) {
      it(`${name}: ${currency} money of 999,999,999.99 stays inside every tile, on one line (${locale})`, async () => {
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        try {
          await page.setContent(render({ locale, currency }));
          const tiles = await page.$$eval('.tile', (nodes) =>
            nodes.map((tile) => {
              const value = tile.querySelector('.value')!;
              const range = value.ownerDocument.createRange();
              range.selectNodeContents(value);
              const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
              return { key: tile.getAttribute('data-tile'), value: value.textContent, content: Math.max(...[...tile.children].map((c) => c.scrollWidth)), room: tile.clientWidth, lines };
            }),
          );
          expect(tiles.length).toBeGreaterThanOrEqual(6);
          expect(tiles.find((t) => t.key === 'revenue')!.value).toMatch(/999.999.999.99/);
          // No tile's content is wider than the tile, and no value had to wrap to fit.
          expect(tiles.filter((t) => t.content > t.room)).toEqual([]);
          expect(tiles.filter((t) => t.lines !== 1)).toEqual([]);
        } finally {
          await page.close();
        }
      });
    }
  }
});
