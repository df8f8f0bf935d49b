import { formatMetric } from '../reports/anomaly-check.js';
import { BASE_STYLE, escapeHtml, Formats, funnelSvg, isBlank, recoveryHtml, remarketingHtml, tilesHtml, topItemsHtml, type Labels, type ReportFormatOptions } from '../reports/render.js';
import { funnelChanges, funnelChangeText, MARK_STYLE, revisionRunsText, tableChangeText, type Revision } from '../reports/revision.js';
import type { Row } from '../warehouse/warehouse.js';
import { daysBetween, type DashboardData, type DateRange } from './queries.js';
import { dateRange } from '../util/dates.js';

/** A link to one of a day's published files. */
export interface FileLink {
  name: string;
  href: string;
}

export interface PageContext {
  format: ReportFormatOptions;
  /** When the copy of the warehouse was taken, and whether a run held it at the last look. */
  takenAt: Date | null;
  busy: boolean;
  /** Why the last refresh failed, while the last copy is shown. */
  stale: string | null;
  /** The day's files, for the status table. */
  links: (date: string) => FileLink[];
}

/**
 * The dashboard, rendered on the server as one HTML page with inline SVG charts and no script:
 * it paints as soon as it arrives, and the range form is a plain GET.
 */
export function renderDashboard(data: DashboardData, context: PageContext): string {
  const formats = new Formats(context.format);
  const { text } = formats;
  const body =
    data.available.last === null
      ? `<p class="empty">${escapeHtml(text.noData)}</p>`
      : `${anomalyBadges(data.anomalies, text)}${tilesAgainstPrevious(data, formats)}
<h2>${text.trend}</h2>
${trendSvg(data.trend, data.range, formats, EVENTS_TREND)}
<h2>${text.funnel}</h2>
${funnelSvg(data.totals, formats)}
<h2>${text.topItems}</h2>
${topItemsHtml(data.topItems, formats, text.noItemsInRange)}
${breakdownsHtml(data.breakdowns, formats, EVENTS_BREAKDOWN)}
<h2>${text.remarketing}</h2>
${remarketingHtml(data.totals, data.consent, formats)}
<h2>${text.recovery}</h2>
${recoveryHtml(data.recovery.days, formats, data.recovery.total ?? undefined)}
<h2>${text.status}</h2>
${daysTable(data.days, formats, context.links, true, data.revisions)}`;
  return pageHtml(text.dashboard, data, context, formats, body);
}

/** The range's tiles against the previous period of the same length, and which period that is. */
export function tilesAgainstPrevious(data: Pick<DashboardData, 'totals' | 'previousTotals' | 'previous'>, formats: Formats, tiles?: Parameters<typeof tilesHtml>[3]): string {
  const { text } = formats;
  const { previous } = data;
  // With no published day before the range, there is nothing to compare with (not zeros).
  const hasPrevious = Number(data.previousTotals.days) > 0;
  return `<section class="tiles">
${tilesHtml(data.totals, formats, hasPrevious ? data.previousTotals : undefined, tiles)}
</section>
<p class="previous">${text.vsPrevious} ${text.previous}: ${previous.from} – ${previous.to} (${data.previousTotals.days}/${daysBetween(previous.from, previous.to)} ${text.publishedDays})</p>`;
}

/** Device, country and source / medium, side by side. */
export function breakdownsHtml(breakdowns: DashboardData['breakdowns'], formats: Formats, spec: BreakdownSpec): string {
  const { text } = formats;
  return `<div class="breakdowns">
${breakdownSvg('device', text.device, breakdowns.device, formats, spec)}
${breakdownSvg('country', text.country, breakdowns.country, formats, spec)}
${breakdownSvg('source_medium', text.sourceMedium, breakdowns.sourceMedium, formats, spec)}
</div>`;
}

/** A badge per unusual day of the range: which metrics moved, against the same weekday's last 4 weeks. */
function anomalyBadges(anomalies: DashboardData['anomalies'], text: Labels): string {
  if (anomalies.length === 0) return '';
  const badges = anomalies.map((a) => `<li class="anomaly" data-anomaly-date="${a.date}">${escapeHtml(`${a.date}: ${a.metrics.filter((m) => m.beyond).map(formatMetric).join(', ')}`)}</li>`);
  return `<section class="anomalies"><h2>${text.anomalies}</h2><ul>${badges.join('')}</ul><p class="note">${text.anomalyNote}</p></section>\n`;
}

/** The page around a view's body: title, range form, when the copy was taken. */
export function pageHtml(title: string, data: { range: DateRange; available: DashboardData['available'] }, context: PageContext, formats: Formats, body: string): string {
  const { text } = formats;
  const { range } = data;
  return `<!doctype html>
<html lang="${context.format.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} ${range.from} – ${range.to}</title>
<style>
${BASE_STYLE}
form.range { display: flex; gap: 0.75rem; align-items: end; margin-bottom: 1rem; }
form.range label { display: flex; flex-direction: column; font-size: 0.8rem; color: #52606d; }
.change.up { color: #0b6e4f; } .change.down { color: #b42318; }
.asof { font-size: 0.8rem; color: #52606d; } .busy { color: #b54708; }
.breakdowns { display: grid; grid-template-columns: repeat(auto-fit, minmax(26rem, 1fr)); gap: 1rem; }
table.days td:first-child { white-space: nowrap; }
.status-failed { color: #b42318; font-weight: 600; } .status-provisional { color: #b54708; }
td.files a { margin-right: 0.5rem; }
${MARK_STYLE}
.revision { font-size: 0.8rem; color: #52606d; }
</style>
</head>
<body>
<h1>${title}</h1>
<form class="range" method="get" action="/">
<label>${text.from}<input type="date" name="from" value="${range.from}"${data.available.first ? ` min="${data.available.first}"` : ''}${data.available.last ? ` max="${data.available.last}"` : ''}></label>
<label>${text.to}<input type="date" name="to" value="${range.to}"${data.available.first ? ` min="${data.available.first}"` : ''}${data.available.last ? ` max="${data.available.last}"` : ''}></label>
<button type="submit">${text.apply}</button>
<span class="asof">${text.dataAsOf} ${context.takenAt ? escapeHtml(context.takenAt.toISOString().slice(0, 19).replace('T', ' ')) : '—'} UTC${context.busy ? ` · <span class="busy">${text.busy}</span>` : ''}${context.stale ? ` · <span class="busy" title="${escapeHtml(context.stale)}">${text.stale}</span>` : ''}</span>
</form>
${body}
</body>
</html>
`;
}

/** One series of the trend chart: its column, its marks' class and data attribute, how it is shown, and its axis' least maximum. */
export interface TrendSeries {
  column: string;
  className: string;
  attribute: string;
  format: 'integer' | 'money' | 'rate';
  floor: number;
}

/** The trend chart: one series as bars, the other as a line with points. */
export interface TrendSpec {
  bars: TrendSeries;
  line: TrendSeries & { lineClass: string };
}

/** The events' trend: abandoned value as bars, the abandonment rate as a line. */
const EVENTS_TREND: TrendSpec = {
  bars: { column: 'abandoned_value', className: 'value-bar', attribute: 'data-value', format: 'money', floor: 1 },
  line: { column: 'cart_abandonment_rate', className: 'rate-point', attribute: 'data-rate', format: 'rate', floor: 0.01, lineClass: 'rate-line' },
};

/** One series as bars and the other as a line, one slot per day of the range (a day not published: an empty slot). */
export function trendSvg(trend: Row[], range: { from: string; to: string }, formats: Formats, spec: TrendSpec): string {
  const { bars: barSeries, line: lineSeries } = spec;
  const width = 760;
  const height = 220;
  const left = 90;
  const right = 70;
  const top = 10;
  const bottom = 30;
  const days = dateRange(range.from, range.to);
  const byDate = new Map(trend.map((row) => [String(row.date), row]));
  const slot = (width - left - right) / days.length;
  const maxValue = Math.max(barSeries.floor, ...trend.map((r) => Number(r[barSeries.column])));
  const rates = trend.filter((r) => !isBlank(r[lineSeries.column])).map((r) => Number(r[lineSeries.column]));
  const maxRate = Math.max(lineSeries.floor, ...rates);
  const plotHeight = height - top - bottom;
  const bars: string[] = [];
  const points: string[] = [];
  const dots: string[] = [];
  days.forEach((date, index) => {
    const row = byDate.get(date);
    if (!row) return;
    const x = left + index * slot;
    const value = Number(row[barSeries.column]);
    const barHeight = (plotHeight * value) / maxValue;
    bars.push(
      `<rect class="${barSeries.className}" data-date="${date}" ${barSeries.attribute}="${escapeHtml(String(row[barSeries.column]))}" x="${(x + slot * 0.15).toFixed(1)}" y="${(top + plotHeight - barHeight).toFixed(1)}" width="${Math.max(1, slot * 0.7).toFixed(1)}" height="${barHeight.toFixed(1)}" fill="#9fc3f7"><title>${date}: ${escapeHtml(formats[barSeries.format](value))}</title></rect>`,
    );
    if (isBlank(row[lineSeries.column])) return;
    const rate = Number(row[lineSeries.column]);
    const cx = (x + slot / 2).toFixed(1);
    const cy = (top + plotHeight - (plotHeight * rate) / maxRate).toFixed(1);
    points.push(`${cx},${cy}`);
    dots.push(
      `<circle class="${lineSeries.className}" data-date="${date}" ${lineSeries.attribute}="${escapeHtml(String(row[lineSeries.column]))}" cx="${cx}" cy="${cy}" r="3" fill="#b42318"><title>${date}: ${escapeHtml(formats[lineSeries.format](rate))}</title></circle>`,
    );
  });
  const axis = [
    `<text x="${left - 6}" y="${top + 10}" font-size="11" text-anchor="end">${escapeHtml(formats[barSeries.format](maxValue))}</text>`,
    `<text x="${width - right + 6}" y="${top + 10}" font-size="11" fill="#b42318">${escapeHtml(formats[lineSeries.format](maxRate))}</text>`,
    `<text x="${left}" y="${height - 8}" font-size="11">${days[0]}</text>`,
    `<text x="${width - right}" y="${height - 8}" font-size="11" text-anchor="end">${days.at(-1)}</text>`,
    `<line x1="${left}" y1="${top + plotHeight}" x2="${width - right}" y2="${top + plotHeight}" stroke="#9aa5b1"></line>`,
  ].join('');
  const line = points.length > 1 ? `<polyline class="${lineSeries.lineClass}" points="${points.join(' ')}" fill="none" stroke="#b42318" stroke-width="2"></polyline>` : '';
  return `<svg class="trend" role="img" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg">${axis}${bars.join('')}${line}${dots.join('')}</svg>`;
}

/**
 * A breakdown's numbers: its title's prefix, its count and money columns (shown, and carried in
 * `data-<column>` attributes), and what its bars' share is of.
 */
export interface BreakdownSpec {
  title: keyof Labels;
  count: { column: string; attribute: string };
  money: { column: string; attribute: string };
}

/** The events' breakdowns: abandoned carts and their value. */
const EVENTS_BREAKDOWN: BreakdownSpec = { title: 'breakdown', count: { column: 'carts', attribute: 'data-carts' }, money: { column: 'value', attribute: 'data-value' } };

/** One dimension's rows: a bar per value, sized by its `share`. */
export function breakdownSvg(dimension: string, title: string, rows: Row[], formats: Formats, spec: BreakdownSpec): string {
  const { text } = formats;
  const width = 520;
  const rowHeight = 24;
  const labelWidth = 150;
  const height = Math.max(1, rows.length) * rowHeight;
  const bars = rows
    .map((row, index) => {
      const y = index * rowHeight;
      const share = Number(row.share ?? 0);
      const key = row.key === null ? text.other : String(row.key);
      const barWidth = Math.max(1, Math.round((width - labelWidth - 200) * share));
      return (
        `<g data-key="${escapeHtml(row.key === null ? '' : String(row.key))}" ${spec.count.attribute}="${row[spec.count.column]}" ${spec.money.attribute}="${escapeHtml(String(row[spec.money.column]))}">` +
        `<text x="0" y="${y + 16}" font-size="12">${escapeHtml(key.length > 22 ? `${key.slice(0, 21)}…` : key)}<title>${escapeHtml(key)}</title></text>` +
        `<rect x="${labelWidth}" y="${y + 3}" width="${barWidth}" height="${rowHeight - 8}" fill="#f0a35e"></rect>` +
        `<text x="${labelWidth + barWidth + 6}" y="${y + 16}" font-size="12">${formats.integer(row[spec.count.column])} · ${escapeHtml(formats.money(row[spec.money.column]))} (${formats.percentFormat.format(share)})</text></g>`
      );
    })
    .join('');
  return `<section class="breakdown"><h3>${text[spec.title]} ${title.toLowerCase()}</h3><svg class="breakdown-chart" data-dimension="${dimension}" role="img" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg">${bars}</svg></section>`;
}

/**
 * Each day's run status and files; `withQuality`: also its quarantined and duplicate lines (the
 * events' quality_daily). A day computed from GA4's intraday data is "provisional (intraday)"; a
 * revised day (`revisions`) carries a "revised" mark with its funnel's changes before → after.
 */
export function daysTable(days: Row[], formats: Formats, links: (date: string) => FileLink[], withQuality: boolean, revisions: readonly Revision[] = []): string {
  const { text } = formats;
  const revised = new Map(revisions.map((r) => [r.date, r]));
  const statusLabel = (status: unknown) => (isBlank(status) ? text.notRun : (text[String(status) as 'complete' | 'provisional' | 'failed' | 'deferred' | 'publishing'] ?? String(status)));
  const count = (value: unknown) => (isBlank(value) ? '—' : formats.integer(value));
  const rows = [...days]
    .reverse()
    .map((day) => {
      const date = String(day.date);
      const status = isBlank(day.status) ? 'not_run' : String(day.status);
      // Published from GA4's intraday data: provisional until the daily export replaces it.
      const intraday = status === 'provisional' && day.input === 'intraday';
      const files = links(date)
        .map((link) => `<a href="${escapeHtml(link.href)}">${escapeHtml(link.name)}</a>`)
        .join('');
      return (
        `<tr data-date="${date}" data-status="${status}"${intraday ? ' data-input="intraday"' : ''}><td>${date}</td>` +
        `<td class="status-${status}"${isBlank(day.last_error) ? '' : ` title="${escapeHtml(String(day.last_error))}"`}>${escapeHtml(intraday ? text.intraday : statusLabel(day.status))}${revisionMark(revised.get(date), formats)}</td>` +
        `<td>${isBlank(day.final) ? '—' : day.final ? text.yes : text.no}</td>` +
        (withQuality ? `<td class="num" data-quarantined="${isBlank(day.quarantined) ? '' : day.quarantined}">${count(day.quarantined)}</td><td class="num">${count(day.duplicates)}</td>` : '') +
        `<td class="files">${files}</td></tr>`
      );
    })
    .join('\n');
  return `<table class="days"><thead><tr><th>${text.date}</th><th>${text.state}</th><th>${text.final}</th>${withQuality ? `<th class="num">${text.quarantined}</th><th class="num">${text.duplicates}</th>` : ''}<th>${text.files}</th></tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

/** A revised day's mark: the runs and every table's changes in its title, the funnel's changes on a small line. */
function revisionMark(revision: Revision | undefined, formats: Formats): string {
  if (!revision) return '';
  const title = [revisionRunsText(revision, formats), ...revision.tables.map((t) => (t.table === 'cart_funnel_daily' ? t.changes.map((c) => funnelChangeText(c, formats)).join('; ') : tableChangeText(t, formats)))].join('\n');
  const funnel = funnelChanges(revision).map((c) => funnelChangeText(c, formats));
  return (
    ` <span class="mark revised" data-mark="revised" data-revised-run="${escapeHtml(revision.run_id)}" title="${escapeHtml(title)}">${formats.text.revised}</span>` +
    (funnel.length > 0 ? `<div class="revision">${escapeHtml(funnel.join(' · '))}</div>` : '')
  );
}
