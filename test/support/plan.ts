import { expect } from 'vitest';
import type { RunPlan } from '../../src/pipeline/plan.js';
import type { RunReport } from '../../src/pipeline/report.js';

/**
 * The run executed exactly the plan's steps, in its order, each done — except the steps named in
 * `skipped`, which were skipped for the reason given.
 */
export function expectRanAsPlanned(plan: RunPlan, report: RunReport, skipped: Record<string, RegExp> = {}): void {
  expect(report.steps.map((s) => s.name)).toEqual(plan.steps.map((s) => s.name));
  expect(report.steps.map((s) => s.kind)).toEqual(plan.steps.map((s) => s.kind));
  for (const step of report.steps) {
    const why = skipped[step.name];
    if (why) {
      expect(step.status, step.name).toBe('skipped');
      expect(step.reason, step.name).toMatch(why);
    } else {
      expect([step.name, step.status, step.reason]).toEqual([step.name, 'done', undefined]);
    }
    expect(step.seconds, step.name).toBeGreaterThanOrEqual(0);
  }
}
