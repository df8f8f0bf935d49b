import type { Dialect, MaterializationDialect } from '../warehouse/dialect.js';
import type { Model } from './graph.js';

export type AssertionKind = 'unique' | 'not_null' | 'accepted_values' | 'row' | 'volume';

/**
 * A check on a model's rows for the run's dates, as SQL that returns the violating rows (none:
 * it passes). Declared beside the model (`-- assert <kind>: <args> [(warn|error[, blocking])]`)
 * or in the config. `error` blocks the date's export unless declared `non-blocking`; `warn`
 * never blocks unless declared `blocking` (Dagster's split of severity and blocking).
 */
export interface Assertion {
  model: string;
  /** Deterministic: `<model>__<kind>_<n>`. */
  name: string;
  kind: AssertionKind;
  args: string;
  severity: 'warn' | 'error';
  blocking: boolean;
}

const DECLARATION = /^--\s*assert\s+(unique|not_null|accepted_values|row|volume):\s*(.+?)\s*(?:\((warn|error)(?:,\s*(blocking|non-blocking))?\))?\s*$/;

export function assertionsIn(model: Model): Assertion[] {
  const declared = model.sql.split('\n').map((line) => DECLARATION.exec(line)).filter((m): m is RegExpExecArray => m !== null);
  return declared.map((m, i) => declare(model.name, m[1] as AssertionKind, m[2]!, (m[3] as 'warn' | 'error' | undefined) ?? 'error', m[4], i));
}

export function declare(model: string, kind: AssertionKind, args: string, severity: 'warn' | 'error', blocking: string | undefined, index: number): Assertion {
  return { model, name: `${model}__${kind}_${index + 1}`, kind, args, severity, blocking: blocking ? blocking === 'blocking' : severity === 'error' };
}

/** The SQL returning the violating rows of `assertion` for `dates`, each with its `date`. */
export function compileAssertion(assertion: Assertion, dialect: Dialect & MaterializationDialect, dates: readonly string[]): string {
  const table = dialect.tableName(assertion.model, false);
  const inRun = `date IN ${dialect.dateList(dates)}`;
  const columns = assertion.args.split(',').map((c) => c.trim());
  switch (assertion.kind) {
    case 'unique':
      return `SELECT ${columns.join(', ')}, COUNT(*) AS copies FROM ${table} WHERE ${inRun} GROUP BY ${columns.join(', ')} HAVING COUNT(*) > 1`;
    case 'not_null':
      return `SELECT * FROM ${table} WHERE ${inRun} AND (${columns.map((c) => `${c} IS NULL`).join(' OR ')})`;
    case 'accepted_values': {
      const match = /^(\w+)\s+in\s+\((.*)\)$/i.exec(assertion.args);
      if (!match) throw new Error(`${assertion.name}: accepted_values takes "<column> in (<values>)"`);
      return `SELECT * FROM ${table} WHERE ${inRun} AND ${match[1]} NOT IN (${match[2]})`;
    }
    case 'row':
      // A condition that is NULL passes: write `x IS NULL OR …` where NULL is a failure.
      return `SELECT * FROM ${table} WHERE ${inRun} AND NOT (${assertion.args})`;
    case 'volume': {
      const match = /^(.+?)\s+within\s+([0-9.]+)$/i.exec(assertion.args);
      if (!match) throw new Error(`${assertion.name}: volume takes "<aggregate> within <share>"`);
      const [, measure, share] = match;
      return [
        `WITH daily AS (SELECT date, ${measure} AS volume FROM ${table} GROUP BY date),`,
        `scored AS (SELECT d.date, d.volume, (SELECT ${dialect.median('p.volume')} FROM daily AS p WHERE p.date < d.date AND p.date >= ${dialect.addDays('d.date', -7)}) AS trailing_median FROM daily AS d WHERE d.${inRun})`,
        `SELECT * FROM scored WHERE trailing_median IS NOT NULL AND ABS(volume - trailing_median) > ${Number(share)} * trailing_median`,
      ].join('\n');
    }
    default: {
      const unknown: never = assertion.kind;
      throw new Error(`unknown assertion kind ${String(unknown)}`);
    }
  }
}

/**
 * The run's assertions: those declared beside the models, then those from the config. Every
 * published table must have a `unique` assertion on its key, so that its export depends on a
 * check; a missing one, or a check on a model that does not exist, is a graph error.
 */
export function planAssertions(
  models: Model[],
  published: readonly { name: string; key: readonly string[] }[],
  extra: readonly { model: string; kind: AssertionKind; check: string; severity: 'warn' | 'error'; blocking?: boolean | undefined }[],
): { assertions: Assertion[]; problems: string[] } {
  const assertions = models.flatMap(assertionsIn);
  const problems: string[] = [];
  const names = new Set(models.map((m) => m.name));
  extra.forEach((e, i) => {
    if (!names.has(e.model)) problems.push(`assertions[${i}]: model ${e.model} does not exist`);
    else assertions.push(declare(e.model, e.kind, e.check, e.severity, e.blocking === undefined ? undefined : e.blocking ? 'blocking' : 'non-blocking', 100 + i));
  });
  for (const table of published) {
    const key = table.key.join(', ');
    if (!assertions.some((a) => a.model === table.name && a.kind === 'unique' && a.args.split(',').map((c) => c.trim()).join(', ') === key)) {
      problems.push(`the export of ${table.name} depends on no assertion: declare \`-- assert unique: ${key}\` in its model`);
    }
  }
  return { assertions, problems };
}

