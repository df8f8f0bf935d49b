// Anomaly alerts once (issue 19, item 4): a date's anomaly is alerted once per metric, however
// often the lookback window recomputes it, and again only when its judgement changes; the
// judgements are kept in the warehouse (anomaly_judgements). End to end through runPipeline on
// DuckDB with a local webhook; the judgements' SQL as BigQuery's analyzer sees it.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { judgementSql } from '../src/ops/anomalies.js';
import { baselineDates, type AlertedAnomaly } from '../src/reports/anomaly-check.js';
import { runPipeline } from '../src/pipeline/run.js';
import { schemaSql } from '../src/warehouse/bigquery/staging-sql.js';
import { dialectFor } from '../src/warehouse/index.js';
import { ev, item, queryWarehouse, tempDir, writeConfig, writeInput, type Line } from './support/pipeline.js';
import { ZetaSqlAnalyzer } from './support/zetasql/analyzer.js';
import { BigQueryCatalog } from './support/zetasql/catalog.js';
import { describeWithZetaSql } from './support/zetasql/guard.js';

const DAY = '2026-12-06'; // judged against the 4 Sundays before it
const DATES = [...baselineDates(DAY), DAY];
// 09:00 in São Paulo on 2026-12-07: the lookback window (3 days) holds DAY.
const NOW = () => new Date('2026-12-07T12:00:00Z');

/** A day of 10 sessions that each add item A (10.00) to the cart; `abandoned` of them leave it there, the rest buy. */
function day(date: string, abandoned: number): Line[] {
  const compact = date.replaceAll('-', '');
  return Array.from({ length: 10 }, (_, i) => {
    const base = { user: `u-${compact}-${i}`, session: i + 1, date: compact, geo: { country: i % 2 === 0 ? 'Brazil' : 'Portugal' } };
    const cart = ev('add_to_cart', { ...base, at: i * 60, items: [item('A')] });
    if (i < abandoned) return [cart];
    return [cart, ev('purchase', { ...base, at: i * 60 + 10, items: [item('A')], ecommerce: { transaction_id: `t-${compact}-${i}`, purchase_revenue: 10 } })];
  }).flat();
}

const inputFile = (date: string) => `events_${date.replaceAll('-', '')}.json`;

async function webhook() {
  const received: { text: string; anomalies?: AlertedAnomaly[] }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk));
    req.on('end', () => {
      received.push(JSON.parse(body) as (typeof received)[number]);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`, received, close: () => new Promise((resolve) => server.close(resolve)) };
}

describe('an anomaly is alerted once per date and metric', () => {
  let hook: Awaited<ReturnType<typeof webhook>>;
  beforeAll(async () => {
    hook = await webhook();
  });
  afterAll(() => hook.close());

  it('lookback re-runs of the same data alert nothing more; a changed judgement alerts again; a return to normal is silent', async () => {
    const dir = await tempDir();
    // Four quiet Sundays (3 of 10 carts abandoned), then DAY with 6.
    await writeInput(dir, Object.fromEntries(DATES.map((d) => [inputFile(d), day(d, d === DAY ? 6 : 3)])));
    // Only the anomaly alerts: the lookback's days without input are deferred, which alerts by default.
    const config = await writeConfig(dir, `alerts: { webhook_url: "${hook.url}", on: [failed] }\n`);
    const loaded = parseConfig(await readFile(config, 'utf8'), config);
    const judgements = () => queryWarehouse(join(dir, 'state', 'warehouse.duckdb'), `SELECT strftime(date, '%Y-%m-%d') AS date, metric, judgement FROM anomaly_judgements ORDER BY date, metric`);
    const alertedSince = (before: number) => hook.received.slice(before).map((a) => a.anomalies!.map((x) => [x.date, x.alerted]));

    await runPipeline({ loaded, now: NOW });
    // 6 of 10 abandoned against 3: +30 points, abandoned value +100%, revenue −43%; sessions as usual.
    const spike = [[DAY, ['cart_abandonment_rate', 'abandoned_value', 'revenue']]];
    expect(alertedSince(0)).toEqual([spike]);
    expect(hook.received[0]!.text).toMatch(/^cartlens: 1 day\(s\) with an anomaly:\n2026-12-06: cart_abandonment_rate 60\.0% vs 30\.0% \(\+30\.0 pp\), abandoned_value 60\.00 vs 30\.00 \(\+100%\), revenue 40\.00 vs 70\.00 \(−43%\);/);
    // Kept per date and metric; the baseline days are not judged, so nothing is kept for them.
    const high = [
      { date: DAY, metric: 'abandoned_value', judgement: 'high' },
      { date: DAY, metric: 'cart_abandonment_rate', judgement: 'high' },
      // Its cart date (9 days before) is not published: not compared, normal.
      { date: DAY, metric: 'recovery_rate_7d', judgement: 'normal' },
      { date: DAY, metric: 'revenue', judgement: 'low' },
      { date: DAY, metric: 'sessions', judgement: 'normal' },
    ];
    expect(await judgements()).toEqual(high);

    // Two scheduled runs recompute the lookback window, DAY included, with the same data: no new alert.
    for (let i = 0; i < 2; i++) {
      const rerun = await runPipeline({ loaded, due: true, now: NOW });
      expect(rerun.dates.map((d) => [d.date, d.status])).toEqual([[DAY, 'published']]);
      expect(rerun.dates[0]!.anomalies).toMatchObject({ judged: true, beyond: ['cart_abandonment_rate', 'abandoned_value', 'revenue'] });
    }
    expect(hook.received).toHaveLength(1);
    expect(await judgements()).toEqual(high);

    // GA4 revises DAY: no cart abandoned. Every anomalous metric turns, and is alerted again.
    await writeInput(dir, { [inputFile(DAY)]: day(DAY, 0) });
    await runPipeline({ loaded, due: true, now: NOW });
    expect(alertedSince(1)).toEqual([[[DAY, ['cart_abandonment_rate', 'abandoned_value', 'revenue']]]]);
    expect(hook.received[1]!.text).toContain('cart_abandonment_rate 0.0% vs 30.0% (−30.0 pp), abandoned_value 0.00 vs 30.00 (−100%), revenue 100.00 vs 70.00 (+43%)');
    expect((await judgements()).map((j) => j.judgement)).toEqual(['low', 'low', 'normal', 'high', 'normal']);

    // Back to the usual: kept, not alerted. Then the spike once more: alerted again.
    await writeInput(dir, { [inputFile(DAY)]: day(DAY, 3) });
    await runPipeline({ loaded, due: true, now: NOW });
    expect(hook.received).toHaveLength(2);
    expect((await judgements()).map((j) => j.judgement)).toEqual(['normal', 'normal', 'normal', 'normal', 'normal']);
    await writeInput(dir, { [inputFile(DAY)]: day(DAY, 6) });
    await runPipeline({ loaded, due: true, now: NOW });
    await runPipeline({ loaded, due: true, now: NOW });
    expect(alertedSince(2)).toEqual([spike]);
  });
});

describeWithZetaSql("the judgements' SQL as BigQuery receives it", () => {
  it('passes ZetaSQL against the table schema.sql creates', async () => {
    const dialect = dialectFor({ type: 'bigquery', project: 'my-project', staging_dataset: 'cartlens_staging', marts_dataset: 'cartlens_marts' });
    const analyzer = await ZetaSqlAnalyzer.start(new BigQueryCatalog().addDatasetMetadata('my-project.cartlens_staging'));
    try {
      const create = schemaSql(dialect, 'my-project.cartlens_staging').split(';\n').find((s) => s.includes('.anomaly_judgements`'))!;
      const sql = judgementSql(dialect);
      const statements = [create.replace(/^(--.*\n)+/, ''), sql.read([DAY, '2026-11-29']), ...sql.replace([{ date: DAY, metric: 'revenue', judgement: 'low' }, { date: DAY, metric: 'sessions', judgement: 'normal' }], 'run-1')];
      const analyzed = await analyzer.analyzeScript(statements.join(';\n'), 'anomaly judgements');
      expect(analyzed.map((s) => s.resolved.node)).toEqual(['resolvedCreateStatementNode', 'resolvedQueryStmtNode', 'resolvedDeleteStmtNode', 'resolvedInsertStmtNode']);
    } finally {
      await analyzer.stop();
    }
  });
});
