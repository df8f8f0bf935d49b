import { REMARKETABLE_SQL } from '../contract/remarketing.js';
import type { Dialect } from '../warehouse/dialect.js';
import { SqlTemplate } from '../warehouse/sql-template.js';
import { splitArguments } from '../util/sql-arguments.js';

/**
 * Model files are SQL with `{{ … }}` placeholders (SqlTemplate), each a call the dialect answers:
 *   {{ ref('name') }}            the table of a model or of the load step (a dependency)
 *   {{ run_dates }}              the run's dates, for `IN` (a model with `-- reach:`: the dates it reaches)
 *   {{ run_dates_around(before, after) }}  each of those dates and the days from `before` to `after` around it, for `IN`
 *   {{ remarketable }}           the contract's remarketable condition on abandoned_carts' columns
 *   {{ money(expr) }}            {{ rate(num, den) }}   {{ user_key(expr) }}
 *   {{ timestamp_millis(expr) }}  {{ hours_between(from_micros, to_micros) }}
 *   {{ first_by(expr, (order, …)) }}     {{ last_non_null_by(expr, (order, …)) }}   (aggregates)
 * Arguments are SQL, split at top-level commas.
 */
export interface RenderContext {
  dialect: Dialect;
  /** What `{{ run_dates }}` stands for: the run's dates for `IN` (`dialect.dateList`), or Dataform's expression of them. */
  runDates: string;
  /** What `{{ run_dates_around(before, after) }}` stands for: those dates and the days around each, for `IN`. */
  datesAround(before: number, after: number): string;
  /** The table name a reference compiles to. */
  tableOf(name: string): string;
}

/** Names passed to `ref()`, in order of appearance. */
export function referencesIn(sql: string, file = 'model'): string[] {
  return SqlTemplate.fromText(file, sql)
    .placeholders()
    .filter((p) => p.name === 'ref')
    .map((p) => unquote(p.args ?? ''));
}

/** The model's SQL with every placeholder answered; an unknown one, or a wrong call, fails naming `file`. */
export function renderTemplate(file: string, sql: string, context: RenderContext): string {
  const { dialect } = context;
  return SqlTemplate.fromText(file, sql).expand(({ name, args: text }) => {
    const args = text === undefined ? [] : splitArguments(text);
    const arity = (n: number) => {
      if (args.length !== n) throw new Error(`{{ ${name}(…) }} takes ${n} argument(s), got ${args.length}`);
    };
    switch (name) {
      case 'ref':
        arity(1);
        return context.tableOf(unquote(args[0]!));
      case 'run_dates':
        arity(0);
        return context.runDates;
      case 'run_dates_around':
        arity(2);
        return context.datesAround(integerArgument(args[0]!), integerArgument(args[1]!));
      case 'remarketable':
        arity(0);
        return REMARKETABLE_SQL;
      case 'money':
        arity(1);
        return dialect.money(args[0]!);
      case 'rate':
        arity(2);
        return dialect.rate(args[0]!, args[1]!);
      case 'user_key':
        arity(1);
        return dialect.userKey(args[0]!);
      case 'timestamp_millis':
        arity(1);
        return dialect.timestampMillis(args[0]!);
      case 'hours_between':
        arity(2);
        return dialect.hoursBetween(args[0]!, args[1]!);
      case 'first_by':
        arity(2);
        return dialect.firstBy(args[0]!, args[1]!);
      case 'last_non_null_by':
        arity(2);
        return dialect.lastNonNullBy(args[0]!, args[1]!);
      default:
        return undefined;
    }
  });
}

function integerArgument(text: string): number {
  if (!/^-?\d+$/.test(text.trim())) throw new Error(`run_dates_around() takes whole numbers of days, got ${text.trim()}`);
  return Number(text.trim());
}

function unquote(text: string): string {
  const trimmed = text.trim();
  const match = /^'([^']*)'$/.exec(trimmed);
  if (!match) throw new Error(`ref() takes a quoted name, got ${trimmed}`);
  return match[1]!;
}
