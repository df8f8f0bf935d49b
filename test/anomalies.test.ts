// Anomaly alerts that name the driver (issue 13, item 3): five quiet weeks, then a day where
// mobile abandonment doubles, end to end through runPipeline on DuckDB with a local webhook; the
// thresholds from the config; the maths; and the check's SQL as BigQuery's analyzer sees it.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { PUBLISHED_TABLES, type ColumnKind } from '../src/contract/tables.js';
import { anomalyAlert } from '../src/ops/anomalies.js';
import { reportCartDates, recoveryCountsSql, recoveryWindowsSelect } from '../src/reports/recovery.js';
import { anomalyQueries, baselineDates, doubledMedian, formatAnomaly, isAnomaly, judgeMetric, median, type Anomaly, type AnomalyCheck } from '../src/reports/anomaly-check.js';
import { duckdbSnapshotSource } from '../src/dashboard/copy-from-duckdb.js';
import { renderDashboard } from '../src/dashboard/page.js';
import { dashboardData } from '../src/dashboard/queries.js';
import { WarehouseSnapshot } from '../src/dashboard/snapshot.js';
import { createSource } from '../src/sources/index.js';
import { runStateKeys } from '../src/sources/source.js';
import { addDays } from '../src/util/dates.js';
import { runPipeline } from '../src/pipeline/run.js';
import { dialectFor } from '../src/warehouse/index.js';
import { ev, item, tempDir, writeConfig, writeInput, type Line } from './support/pipeline.js';
import { ZetaSqlAnalyzer } from './support/zetasql/analyzer.js';
import { BigQueryCatalog } from './support/zetasql/catalog.js';
import { describeWithZetaSql } from './support/zetasql/guard.js';
import { T, type TypeProto } from './support/zetasql/types.js';

const FIRST = '2026-11-01'; // a Sunday
const SPIKE = '2026-12-06'; // the Sunday after five quiet weeks
const NOW = () => new Date('2026-12-08T12:00:00Z');

/**
 * One day of a small store: per device, 3 sessions that only look and 12 that add item A to the
 * cart, of which `abandoned` leave it there and the rest buy. Countries alternate per session.
 * The spike day's extra mobile carts hold item B.
 */
function day(date: string, abandonedMobile = 3): Line[] {
  const compact = date.replaceAll('-', '');
  // São Paulo's midnight is 03:00 UTC: the event's UTC date stays within a day of event_date.
  const micros = (at: number) => String((Date.parse(`${date}T03:00:00Z`) + at * 1000) * 1000);
  const lines: Line[] = [];
  for (const device of ['desktop', 'mobile']) {
    const abandoned = device === 'mobile' ? abandonedMobile : 3;
    for (let i = 0; i < 15; i++) {
      const base = { user: `${device}-${compact}-${i}`, session: i + 1, date: compact, device: { category: device }, geo: { country: i % 2 === 0 ? 'Brazil' : 'Portugal' } };
      const at = (seconds: number) => ({ ...base, event_timestamp: micros(i * 60 + seconds) });
      lines.push(ev('page_view', at(0)));
      if (i >= 12) continue; // looked only
      const sku = i >= 3 && i < abandoned ? 'B' : 'A';
      lines.push(ev('add_to_cart', { ...at(10), items: [item(sku)] }));
      if (i >= abandoned) lines.push(ev('purchase', { ...at(20), items: [item(sku)], ecommerce: { transaction_id: `t-${device}-${compact}-${i}`, purchase_revenue: 10 } }));
    }
  }
  return lines;
}

const quietDates = Array.from({ length: 35 }, (_, i) => addDays(FIRST, i));

async function webhook() {
  const received: Record<string, unknown>[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk));
    req.on('end', () => {
      received.push(JSON.parse(body) as Record<string, unknown>);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`, received, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** A project with the quiet days given (all 35 by default) and, optionally, the spike. */
async function project(extra: string, dates = quietDates, spike = false) {
  const dir = await tempDir();
  await writeInput(dir, Object.fromEntries(dates.map((d) => [`events_${d.replaceAll('-', '')}.json`, day(d)])));
  if (spike) await addSpike(dir);
  const config = await writeConfig(dir, extra);
  return { dir, loaded: parseConfig(await readFile(config, 'utf8'), config) };
}

async function addSpike(dir: string): Promise<void> {
  await writeInput(dir, { [`events_${SPIKE.replaceAll('-', '')}.json`]: day(SPIKE, 6) });
}

describe('five quiet weeks, then mobile abandonment doubles', () => {
  let hook: Awaited<ReturnType<typeof webhook>>;
  beforeAll(async () => {
    hook = await webhook();
  });
  afterAll(() => hook.close());

  it('judges nothing for the first 4 weeks, fires for no quiet day, and names mobile on the spike', async () => {
    const { dir, loaded } = await project(`alerts: { webhook_url: "${hook.url}" }\n`);
    const quiet = await runPipeline({ loaded, now: NOW });
    expect(quiet.dates.map((d) => d.status)).toEqual(quietDates.map(() => 'published'));
    const checks = quiet.dates.map((d) => d.anomalies!);
    // Each of the first 28 days lacks some of its 4 baseline weeks; the last 7 have them all.
    expect(checks.slice(0, 28).every((c) => !c.judged)).toBe(true);
    expect(checks[0]).toMatchObject({ judged: false, reason: `0 of 4 baseline weeks published (missing 2026-10-04, 2026-10-11, 2026-10-18, 2026-10-25)` });
    expect(checks[27]).toMatchObject({ date: '2026-11-28', judged: false, reason: '3 of 4 baseline weeks published (missing 2026-10-31)' });
    expect(checks.slice(28).map((c) => [c.date, c.judged, c.judged && c.beyond])).toEqual(quietDates.slice(28).map((d) => [d, true, []]));
    expect(hook.received).toEqual([]); // quiet days raise nothing

    await addSpike(dir);
    const spike = await runPipeline({ loaded, dates: [SPIKE], now: NOW });
    const check = spike.dates[0]!.anomalies!;
    expect(isAnomaly(check)).toBe(true);
    const anomaly = check as Anomaly;
    expect(anomaly.baseline_dates).toEqual(['2026-11-08', '2026-11-15', '2026-11-22', '2026-11-29']);
    // 9 of 24 carts abandoned against 6 of 24: +12.5 points; abandoned value 90.00 against 60.00: +50%.
    expect(anomaly.metrics).toEqual([
      { metric: 'cart_abandonment_rate', value: 0.375, baseline: 0.25, unit: 'points', change: 12.5, beyond: true },
      { metric: 'abandoned_value', value: 90, baseline: 60, unit: 'relative', change: 0.5, beyond: true },
      { metric: 'sessions', value: 30, baseline: 30, unit: 'relative', change: 0, beyond: false },
      { metric: 'revenue', value: 150, baseline: 180, unit: 'relative', change: -1 / 6, beyond: false },
      // Nobody comes back: every cart date's 7-day recovery rate is 0, and the baseline's oldest (10-30) is before the data.
      { metric: 'recovery_rate_7d', value: 0, baseline: null, unit: 'points', change: null, beyond: false, cart_date: '2026-11-27' },
    ]);
    expect(anomaly.beyond).toEqual(['cart_abandonment_rate', 'abandoned_value']);
    // Mobile carries the whole change; of its 3 extra carts 2 are from Portugal, 1 from Brazil.
    // Every cart comes from google / organic: that dimension explains nothing and is left out.
    expect(anomaly.drivers.segments).toEqual([
      { dimension: 'device', value: 'mobile', day_value: 60, baseline: 30, contribution: 30 },
      { dimension: 'country', value: 'Portugal', day_value: 40, baseline: 20, contribution: 20 },
      { dimension: 'country', value: 'Brazil', day_value: 50, baseline: 40, contribution: 10 },
    ]);
    expect(anomaly.drivers.items).toEqual([{ dimension: 'item', value: 'B', name: 'Item B', day_value: 30, baseline: 0, contribution: 30 }]);

    expect(hook.received).toHaveLength(1);
    const alert = hook.received[0] as { text: string; days: { date: string; status: string; reason: string }[]; anomalies: AnomalyCheck[] };
    expect(alert.text).toBe(
      'cartlens: 1 day(s) with an anomaly:\n2026-12-06: cart_abandonment_rate 37.5% vs 25.0% (+12.5 pp), abandoned_value 90.00 vs 60.00 (+50%); ' +
        'drivers: device=mobile +30.00, country=Portugal +20.00, country=Brazil +10.00; items: item B (Item B) +30.00',
    );
    expect(alert.text).toContain('device=mobile');
    expect(alert.days).toEqual([{ date: SPIKE, status: 'anomaly', reason: alert.text.split('\n')[1] }]);
    expect(alert.anomalies.map((a) => a.date)).toEqual([SPIKE]);

    // The per-date run report carries the check too.
    const written = JSON.parse(await readFile(`${dir}/exports/run_report/dt=${SPIKE}/run_report_20261206.json`, 'utf8')) as { anomalies: AnomalyCheck };
    expect(written.anomalies).toEqual(check);

    // report.html of the spike says so, naming mobile; a quiet judged day's says nothing.
    const report = await readFile(`${dir}/exports/report/dt=${SPIKE}/report.html`, 'utf8');
    expect(report).toContain(`data-anomaly="${SPIKE}"`);
    expect(report).toContain('device=mobile +30.00');
    expect(await readFile(`${dir}/exports/report/dt=${quietDates.at(-1)}/report.html`, 'utf8')).not.toContain('data-anomaly=');
    // The dashboard shows a badge on the spike and on no quiet day.
    const snapshot = await WarehouseSnapshot.create(duckdbSnapshotSource(`${dir}/state/warehouse.duckdb`), runStateKeys(createSource(loaded.config.source, loaded.baseDir)));
    try {
      await snapshot.refresh();
      const shown = await snapshot.read((query) => dashboardData(query, { from: quietDates[28]!, to: SPIKE }, { first: quietDates[0]!, last: SPIKE }));
      expect(shown.anomalies.map((a) => [a.date, a.beyond])).toEqual([[SPIKE, ['cart_abandonment_rate', 'abandoned_value']]]);
      expect(renderDashboard(shown, { format: { locale: 'en', currency: 'BRL' }, takenAt: null, busy: false, stale: null, links: () => [] })).toContain(`data-anomaly-date="${SPIKE}"`);
    } finally {
      await snapshot.close();
    }
  });

  it('takes its thresholds from the config', async () => {
    // The spike and its 4 baseline days in one run: the baseline is read from the same publish.
    const judge = async (extra: string) => {
      const { loaded } = await project(extra, baselineDates(SPIKE), true);
      const report = await runPipeline({ loaded, now: NOW });
      expect(report.dates.map((d) => d.anomalies!.judged)).toEqual([false, false, false, false, true]);
      return report.dates[4]!.anomalies!;
    };
    // +12.5 points and +50% are within 20 points and 60%: judged, and no anomaly, no alert.
    const before = hook.received.length;
    expect(await judge(`alerts: { webhook_url: "${hook.url}" }\nanomalies: { rate_points: 20, relative_change: 0.6 }\n`)).toMatchObject({ judged: true, beyond: [], drivers: null });
    expect(hook.received.length).toBe(before);
    // Stricter than the default: a revenue fall of 16.7% is beyond 10%.
    expect(await judge('anomalies: { relative_change: 0.1 }\n')).toMatchObject({ judged: true, beyond: ['cart_abandonment_rate', 'abandoned_value', 'revenue'] });
  });

  it('refuses thresholds that are not positive, and unknown keys', () => {
    expect(() => parseConfig('source: { type: ga4-export-files, path: "x" }\nanomalies: { rate_points: 0 }\n', '/tmp/c.yaml')).toThrow(/rate_points/);
    expect(() => parseConfig('source: { type: ga4-export-files, path: "x" }\nanomalies: { rate: 5 }\n', '/tmp/c.yaml')).toThrow(/rate/);
    expect(parseConfig('source: { type: ga4-export-files, path: "x" }\n', '/tmp/c.yaml').config.anomalies).toEqual({ rate_points: 5, relative_change: 0.3 });
  });
});

describe('the maths', () => {
  const defaults = { rate_points: 5, relative_change: 0.3 };

  it('the median of 4 is the mean of the middle two, exactly', () => {
    expect(median([10, 1, 3, 2])).toBe(2.5);
    expect(doubledMedian([10n, 1n, 3n, 2n])).toBe(5n);
    expect(doubledMedian([7n, 7n, 7n, 7n])).toBe(14n);
    // Half a cent, exact: the median of 0.01, 0.02, 0.03, 0.04 is 0.025.
    expect(judgeMetric('revenue', '0.03', ['0.01', '0.02', '0.03', '0.04'], defaults)).toMatchObject({ baseline: 0.025, change: 0.2, beyond: false });
  });

  it('judges the rate in percentage points and the others by relative change', () => {
    // 30% → 36%: +6 points is beyond 5 points, although it is only +20% relative.
    expect(judgeMetric('cart_abandonment_rate', '0.3600', ['0.3000', '0.2900', '0.3100', '0.3000'], defaults)).toEqual({
      metric: 'cart_abandonment_rate',
      value: 0.36,
      baseline: 0.3,
      unit: 'points',
      change: 6,
      beyond: true,
    });
    expect(judgeMetric('cart_abandonment_rate', '0.3500', ['0.3000', '0.3000', '0.3000', '0.3000'], defaults)).toMatchObject({ change: 5, beyond: false }); // exactly 5: not beyond
    expect(judgeMetric('cart_abandonment_rate', '0.2499', ['0.3000', '0.3000', '0.3000', '0.3000'], defaults)).toMatchObject({ beyond: true });
    // Sessions 100 → 130 is exactly +30%: not beyond; 131 is; a fall of 31% too.
    expect(judgeMetric('sessions', '130', ['100', '100', '100', '100'], defaults)).toMatchObject({ change: 0.3, beyond: false });
    expect(judgeMetric('sessions', '131', ['100', '90', '110', '100'], defaults)).toMatchObject({ baseline: 100, change: 0.31, beyond: true });
    expect(judgeMetric('abandoned_value', '69.00', ['100.00', '100.00', '100.00', '100.00'], defaults)).toMatchObject({ change: -0.31, beyond: true });
    // 50% → 60% is +10 points (beyond) and +20% relative: the rate is never judged relatively.
    expect(judgeMetric('cart_abandonment_rate', '0.6000', ['0.5000', '0.5000', '0.5000', '0.5000'], { rate_points: 15, relative_change: 0.1 })).toMatchObject({ beyond: false });
  });

  it('says when there is nothing to compare', () => {
    // A day without carts has no rate; a baseline day without one leaves no median.
    expect(judgeMetric('cart_abandonment_rate', null, ['0.3000', '0.3000', '0.3000', '0.3000'], defaults)).toMatchObject({ value: null, change: null, beyond: false });
    expect(judgeMetric('cart_abandonment_rate', '0.3000', ['0.3000', null, '0.3000', '0.3000'], defaults)).toMatchObject({ baseline: null, change: null, beyond: false });
    // From a baseline of 0, a relative change has no value.
    expect(judgeMetric('revenue', '10.00', ['0.00', '0.00', '0.00', '5.00'], defaults)).toMatchObject({ baseline: 0, change: null, beyond: false });
    expect(judgeMetric('revenue', '0.00', ['0.00', '0.00', '0.00', '0.00'], defaults)).toMatchObject({ change: 0, beyond: false });
  });

  it('the baseline is the same weekday of the 4 weeks before', () => {
    expect(baselineDates('2026-03-01')).toEqual(['2026-02-01', '2026-02-08', '2026-02-15', '2026-02-22']);
  });

  it('an alert lists at most 10 dates in its text, and every date for machines', () => {
    const anomaly = (date: string): Anomaly => ({
      date,
      judged: true,
      baseline_dates: baselineDates(date),
      metrics: [{ metric: 'sessions', value: 40, baseline: 80, unit: 'relative', change: -0.5, beyond: true }],
      beyond: ['sessions'],
      drivers: { segments: [{ dimension: 'source_medium', value: ' / ', day_value: 0, baseline: 10.005, contribution: -10.005 }], items: [] },
    });
    expect(formatAnomaly(anomaly('2026-11-01'))).toBe('2026-11-01: sessions 40 vs 80 (−50%); drivers: source_medium=(not set) −10.005; items: none');
    const alert = anomalyAlert(Array.from({ length: 12 }, (_, i) => anomaly(addDays('2026-11-01', i))));
    expect(alert.text.split('\n')).toHaveLength(12);
    expect(alert.text).toMatch(/… and 2 more date\(s\)$/);
    expect(alert.days).toHaveLength(12);
  });
});

describeWithZetaSql("the check's SQL as BigQuery receives it", () => {
  it('passes ZetaSQL', async () => {
    const types: Record<ColumnKind, TypeProto> = { date: T.date, integer: T.int64, money: T.numeric, rate: T.numeric, hours: T.numeric, boolean: T.bool, timestamp: T.timestamp, text: T.string };
    const catalog = new BigQueryCatalog();
    for (const table of PUBLISHED_TABLES) catalog.addTable(`my-project.cartlens_marts.${table.name}`, table.columns.map((c) => [c.name, types[c.kind]]));
    const analyzer = await ZetaSqlAnalyzer.start(catalog);
    try {
      const dialect = dialectFor({ type: 'bigquery', project: 'my-project', staging_dataset: 'cartlens_staging', marts_dataset: 'cartlens_marts' });
      const queries = anomalyQueries(dialect);
      const dates = [SPIKE, ...baselineDates(SPIKE)];
      const recoveries = {
        recoveries: queries.recoveries(dates, SPIKE),
        // report.html's, and the dashboard's copy of cart_recoveries as it reads it (as of a moment).
        report: recoveryCountsSql(dialect, reportCartDates(SPIKE), SPIKE),
        copy: recoveryWindowsSelect(`${dialect.tableName('cart_recoveries', false)} FOR SYSTEM_TIME AS OF TIMESTAMP '2026-12-06 00:00:00+00'`),
      };
      for (const [name, sql] of Object.entries({ funnel: queries.funnel(dates), segments: queries.segments(dates), items: queries.items(dates), ...recoveries })) {
        expect(sql).toContain('`my-project.cartlens_marts.');
        const [statement] = await analyzer.analyzeScript(sql, name);
        expect(statement!.resolved.node).toBe('resolvedQueryStmtNode');
      }
    } finally {
      await analyzer.stop();
    }
  });
});
