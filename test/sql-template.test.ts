// The one templating of cartlens' SQL (SqlTemplate), as the models and the Dataform generator use
// it: a placeholder nothing answers fails, naming the model's file.
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { dataformRepository } from '../src/dataform/repository.js';
import { compileModels } from '../src/models/compile.js';
import { planRun } from '../src/pipeline/plan.js';
import { dialectFor } from '../src/warehouse/index.js';
import { SqlTemplate } from '../src/warehouse/sql-template.js';

const withForgotten = <T extends { sql: string }>(model: T): T => ({ ...model, sql: model.sql.replace(/\bFROM\b/, 'FROM {{ forgotten }},') });

async function gcpPlan() {
  const file = join(process.cwd(), 'deploy/cartlens.gcp.yaml');
  return planRun(parseConfig(await readFile(file, 'utf8'), file, { CARTLENS_USER_KEY_SECRET: 'sql-template-test-secret-0123' }));
}

describe('SqlTemplate', () => {
  it('reads named and call placeholders, with or without spaces', () => {
    const template = SqlTemplate.fromText('t.sql', "SELECT {{a}}, {{ b }}, {{ f(x, (y, z)) }}, {{ ref('m') }}");
    expect(template.placeholders()).toEqual([
      { name: 'a', args: undefined },
      { name: 'b', args: undefined },
      { name: 'f', args: 'x, (y, z)' },
      { name: 'ref', args: "'m'" },
    ]);
    expect(() => template.fill({ a: '1', b: '2' })).toThrow('t.sql: no value for the placeholder {{f(…)}}');
    expect(() => SqlTemplate.fromText('t.sql', 'SELECT {{ 1 + 1 }}').fill({})).toThrow('t.sql: cannot read the placeholder {{ 1 + 1 }}');
  });
});

describe('an unfilled placeholder', () => {
  it('fails a model’s compilation, naming its file', async () => {
    const plan = await gcpPlan();
    const broken = plan.models.map((m, i) => (i === 0 ? withForgotten(m) : m));
    for (const dialect of [dialectFor({ type: 'duckdb' }), plan.dialect]) {
      expect(() => compileModels(broken, dialect, ['2026-11-01'])).toThrow(`${plan.models[0]!.file}: no value for the placeholder {{forgotten}}`);
    }
    // A known macro called wrongly is named the same way.
    const miscalled = plan.models.map((m, i) => (i === 0 ? { ...m, sql: m.sql.replace(/\bFROM\b/, 'FROM {{ money(a, b) }},') } : m));
    expect(() => compileModels(miscalled, plan.dialect, ['2026-11-01'])).toThrow(`${plan.models[0]!.file}: {{ money(…) }} takes 1 argument(s), got 2`);
  });

  it('fails the Dataform generation, naming the model’s file', async () => {
    const plan = await gcpPlan();
    const last = plan.models.at(-1)!;
    expect(() => dataformRepository({ ...plan, models: plan.models.map((m) => (m === last ? withForgotten(m) : m)) })).toThrow(`${last.file}: no value for the placeholder {{forgotten}}`);
  });
});
