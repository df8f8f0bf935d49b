import { describe, expect, it } from 'vitest';
import { planModels, readModels, type Model } from '../src/models/graph.js';
import { ModelGraphError } from '../src/util/errors.js';
import { PUBLISHED_TABLE_NAMES } from '../src/contract/tables.js';

const model = (name: string, dependsOn: string[]): Model => ({ name, file: `${name}.sql`, sql: '', materialized: 'temp', description: '', dependsOn });
const problemsOf = (models: Model[], required: string[] = []) => {
  try {
    planModels(models, required);
  } catch (error) {
    expect(error).toBeInstanceOf(ModelGraphError);
    return (error as ModelGraphError).problems;
  }
  throw new Error('expected a ModelGraphError');
};

describe('model graph', () => {
  it('orders the shipped models by dependency, each after what it reads', async () => {
    const plan = planModels(await readModels(), PUBLISHED_TABLE_NAMES);
    const position = new Map(plan.map((m, i) => [m.name, i]));
    for (const m of plan) for (const dep of m.dependsOn) if (position.has(dep)) expect(position.get(dep)!).toBeLessThan(position.get(m.name)!);
    expect(plan.map((m) => m.name)).toEqual(expect.arrayContaining([...PUBLISHED_TABLE_NAMES]));
  });

  it('reports a cycle as its chain', () => {
    expect(problemsOf([model('a', ['b']), model('b', ['a']), model('c', ['stg_events'])])).toEqual(['cycle: a > b > a']);
  });

  it('collects every problem before refusing to run', () => {
    const problems = problemsOf([model('a', ['missing_table']), model('b', ['c']), model('c', ['d']), model('d', ['b'])], ['cart_funnel_daily']);
    expect(problems).toEqual([
      "a.sql: model a references 'missing_table', which no model or load step produces",
      'model cart_funnel_daily is missing (the contract publishes it)',
      'cycle: b > c > d > b',
    ]);
  });
});
