import type { AlertedAnomaly, Anomaly } from '../reports/anomaly-check.js';

/** What an alert says: one line for people, and the failing days for machines. */
export interface Alert {
  text: string;
  /** Each day with its status (`failed`, `deferred`, `provisional`, or `anomaly` with its one-line summary as the reason). */
  days: { date: string; status: string; reason: string | null }[];
  /**
   * An anomaly alert's checks: metrics, baselines, changes and drivers (src/reports/anomaly-check.ts), and
   * in a run's alert `alerted`, the metrics whose judgement is new (each is alerted once).
   */
  anomalies?: (Anomaly | AlertedAnomaly)[];
}

export interface AlertOptions {
  retries: number;
  sleep: (ms: number) => Promise<void>;
  timeoutMs: number;
  /** All attempts and waits together end within this (a webhook that never answers cannot hold a run). */
  totalMs?: number;
}

/**
 * POSTs the alert as JSON to a webhook (a Slack or Google Chat incoming webhook accepts
 * `{ "text": … }` as is), retrying network errors and 5xx with jittered back-off, never 4xx.
 * The body holds dates, statuses and reasons (and an anomaly's aggregate figures: metrics,
 * segments, items) only: no config, no secret, no user data. The
 * webhook's URL is itself a secret and is never logged. Returns whether it was delivered.
 */
export async function sendAlert(url: string, alert: Alert, options: AlertOptions): Promise<boolean> {
  const deadline = performance.now() + (options.totalMs ?? Number.POSITIVE_INFINITY);
  for (let attempt = 0; ; attempt++) {
    let status = 0;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(alert),
        signal: AbortSignal.timeout(Math.max(1, Math.min(options.timeoutMs, deadline - performance.now()))),
      });
      status = response.status;
      if (response.ok) return true;
    } catch {
      status = 0; // network error or timeout: worth another try
    }
    if ((status >= 400 && status < 500) || attempt >= options.retries) return false;
    const wait = Math.round(2 ** attempt * 500 * (0.5 + Math.random()));
    if (performance.now() + wait >= deadline) return false;
    await options.sleep(wait);
  }
}

/** How every alert is sent: 10 s per attempt, and at most 30 s in all, retries and waits included. */
export function webhookDelivery(retries: number): AlertOptions {
  return { retries, timeoutMs: 10_000, totalMs: 30_000, sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };
}

export function alertFor(days: Alert['days']): Alert {
  const worst = days.map((d) => `${d.date} ${d.status}${d.reason ? ` (${d.reason})` : ''}`).join('; ');
  return { text: `cartlens: ${days.length} day(s) need attention: ${worst}`, days };
}
