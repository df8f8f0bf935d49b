// Due dates from an injected clock, in the property's time zone — never the machine's UTC date.
import { describe, expect, it } from 'vitest';
import { dateRange, localDate } from '../src/util/dates.js';
import { dueDates, freshnessOf, isFinal, type DayStatus } from '../src/pipeline/due-dates.js';
import { datesFromOptions } from '../src/util/dates.js';
import { freshnessLevel } from '../src/cli/commands/status.js';

const SP = 'America/Sao_Paulo';
const state = (entries: [string, DayStatus][]) => entries.map(([date, status]) => ({ date, status }));

describe('due dates', () => {
  it('uses the property-local date: 23:30 and 00:30 in São Paulo', () => {
    // 23:30 on the 10th in São Paulo is already the 11th in UTC: yesterday is still the 9th.
    expect(localDate(new Date('2026-11-11T02:30:00Z'), SP)).toBe('2026-11-10');
    expect(dueDates(new Date('2026-11-11T02:30:00Z'), SP, [], 3)).toEqual(['2026-11-07', '2026-11-08', '2026-11-09']);
    // 00:30 on the 11th in São Paulo: yesterday is the 10th.
    expect(dueDates(new Date('2026-11-11T03:30:00Z'), SP, [], 3)).toEqual(['2026-11-08', '2026-11-09', '2026-11-10']);
  });

  it('across a daylight-saving change (New York, 2026-11-01 02:00 → 01:00)', () => {
    const NY = 'America/New_York';
    expect(localDate(new Date('2026-11-01T03:30:00Z'), NY)).toBe('2026-10-31'); // 23:30 EDT
    expect(localDate(new Date('2026-11-01T05:30:00Z'), NY)).toBe('2026-11-01'); // 01:30 EDT, the first one
    expect(localDate(new Date('2026-11-02T04:30:00Z'), NY)).toBe('2026-11-01'); // 23:30 EST
    expect(dueDates(new Date('2026-11-02T05:30:00Z'), NY, [], 1)).toEqual(['2026-11-01']); // 00:30 EST on the 2nd
  });

  it('after a 5-day outage: exactly the 5 missed days plus the lookback of what was provisional', () => {
    const before = state([['2026-11-06', 'complete'], ['2026-11-07', 'complete'], ['2026-11-08', 'provisional'], ['2026-11-09', 'provisional'], ['2026-11-10', 'provisional']]);
    const now = new Date('2026-11-16T09:00:00Z'); // 06:00 on the 16th: yesterday is the 15th
    expect(dueDates(now, SP, before, 3)).toEqual(['2026-11-08', '2026-11-09', '2026-11-10', '2026-11-11', '2026-11-12', '2026-11-13', '2026-11-14', '2026-11-15']);
  });

  it('retries failed and deferred days, and leaves complete ones alone', () => {
    const now = new Date('2026-11-16T09:00:00Z');
    const s = state([['2026-11-01', 'failed'], ['2026-11-02', 'complete'], ['2026-11-03', 'deferred'], ['2026-11-15', 'provisional']]);
    expect(dueDates(now, SP, s, 2)).toEqual(['2026-11-01', '2026-11-03', '2026-11-14', '2026-11-15']);
  });

  it('a day is final 72 hours after it ended, locally', () => {
    const now = new Date('2026-11-16T09:00:00Z');
    expect(isFinal('2026-11-12', now, SP)).toBe(true);
    expect(isFinal('2026-11-13', now, SP)).toBe(false);
  });

  it('a corrupt date in the state (9999-12-31, 0001-01-01) neither stops the catch-up nor is due', () => {
    const now = new Date('2026-11-16T09:00:00Z');
    const s = state([['2026-11-10', 'complete'], ['9999-12-31', 'complete'], ['9999-12-30', 'failed'], ['0001-01-01', 'failed']]);
    expect(dueDates(now, SP, s, 2)).toEqual(['2026-11-11', '2026-11-12', '2026-11-13', '2026-11-14', '2026-11-15']);
  });
});

describe('bounded dates', () => {
  it('a range never runs past the handled window', () => {
    expect(() => dateRange('2026-11-01', '9999-12-31')).toThrow(RangeError);
    expect(() => dateRange('0000-01-01', '2026-11-01')).toThrow(RangeError);
    expect(dateRange('2099-12-30', '2099-12-31')).toEqual(['2099-12-30', '2099-12-31']);
    expect(dateRange('2026-11-02', '2026-11-01')).toEqual([]);
  });

  it('run --from/--to outside the window is a one-line error, checked before any list is built', () => {
    expect(() => datesFromOptions({ from: '2026-11-01', to: '9999-12-31' })).toThrow(/--to 9999-12-31 is outside the dates cartlens handles \(2000-01-01 … 2099-12-31\)/);
    expect(() => datesFromOptions({ date: '0000-01-01' })).toThrow(/--date 0000-01-01 is outside/);
    expect(() => datesFromOptions({ from: '2000-01-01', to: '2099-12-31' })).toThrow(/covers 36525 days/);
  });
});

describe('freshness', () => {
  it('counts the last day done up to yesterday, never a later one', () => {
    const s = state([['2026-11-10', 'complete'], ['2026-11-12', 'provisional'], ['2026-11-13', 'failed'], ['9999-12-31', 'complete']]);
    expect(freshnessOf(s, '2026-11-15')).toEqual({ lastDone: '2026-11-12', daysBehind: 3 });
    expect(freshnessOf(state([['9999-12-31', 'complete']]), '2026-11-15')).toEqual({ lastDone: null, daysBehind: null });
  });

  it('warns past warn_days_behind and fails past error_days_behind or with nothing done', () => {
    const thresholds = { warn_days_behind: 1, error_days_behind: 3 };
    expect([0, 1, 2, 3, 4, null].map((days) => freshnessLevel(days, thresholds))).toEqual(['ok', 'ok', 'warn', 'warn', 'error', 'error']);
  });
});
