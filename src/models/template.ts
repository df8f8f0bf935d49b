import type { Dialect } from '../warehouse/dialect.js';

/**
 * Model files are SQL with `{{ … }}` placeholders, each a call the dialect answers:
 *   {{ ref('name') }}            the table of a model or of the load step (a dependency)
 *   {{ run_dates }}              the run's dates, for `IN`
 *   {{ money(expr) }}            {{ rate(num, den) }}   {{ user_key(expr) }}
 *   {{ timestamp_millis(expr) }}
 *   {{ first_by(expr, (order, …)) }}     {{ last_non_null_by(expr, (order, …)) }}   (aggregates)
 * Arguments are SQL, split at top-level commas.
 */
export interface RenderContext {
  dialect: Dialect;
  dates: readonly string[];
  /** The table name a reference compiles to. */
  tableOf(name: string): string;
}

const PLACEHOLDER = /\{\{\s*([\s\S]*?)\s*\}\}/g;
const CALL = /^([a-z_]+)\s*(?:\(([\s\S]*)\))?$/;

/** Names passed to `ref()`, in order of appearance. */
export function referencesIn(sql: string): string[] {
  const names: string[] = [];
  for (const match of sql.matchAll(PLACEHOLDER)) {
    const call = CALL.exec(match[1]!);
    if (call?.[1] === 'ref') names.push(unquote(call[2] ?? ''));
  }
  return names;
}

export function renderTemplate(sql: string, context: RenderContext): string {
  return sql.replace(PLACEHOLDER, (_whole, body: string) => {
    const call = CALL.exec(body);
    if (!call) throw new Error(`cannot read placeholder {{ ${body} }}`);
    const name = call[1]!;
    const args = call[2] === undefined ? [] : splitArguments(call[2]);
    const { dialect } = context;
    const arity = (n: number) => {
      if (args.length !== n) throw new Error(`{{ ${name}(…) }} takes ${n} argument(s), got ${args.length}`);
    };
    switch (name) {
      case 'ref':
        arity(1);
        return context.tableOf(unquote(args[0]!));
      case 'run_dates':
        return dialect.dateList(context.dates);
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
      case 'first_by':
        arity(2);
        return dialect.firstBy(args[0]!, args[1]!);
      case 'last_non_null_by':
        arity(2);
        return dialect.lastNonNullBy(args[0]!, args[1]!);
      default:
        throw new Error(`unknown placeholder {{ ${name} }}`);
    }
  });
}

function unquote(text: string): string {
  const trimmed = text.trim();
  const match = /^'([^']*)'$/.exec(trimmed);
  if (!match) throw new Error(`ref() takes a quoted name, got ${trimmed}`);
  return match[1]!;
}

/** Splits at commas outside parentheses and quotes. */
export function splitArguments(text: string): string[] {
  const args: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let current = '';
  for (const char of text) {
    if (quote) {
      if (char === quote) quote = undefined;
    } else if (char === "'" || char === '"') quote = char;
    else if (char === '(') depth++;
    else if (char === ')') depth--;
    else if (char === ',' && depth === 0) {
      args.push(current.trim());
      current = '';
      continue;
    }
    current += char;
  }
  if (current.trim() !== '') args.push(current.trim());
  return args;
}
