// What ZetaSQL's reference engine lacks and BigQuery has, mapped onto what it has by editing a
// statement's text before the engine sees it (LocalBigQuery's runStatement; time travel is there).
import { concrete, findAll, pathOf, rangeOf, type Edit } from './trees.js';
import { BigQueryError, type Named } from './bigquery-tables.js';
import type { Tree } from './zetasql-engine.js';

/** The edits a statement needs: APPROX_QUANTILES, the current time as this process's clock, table paths as the catalog names them. */
export function textMappings(statement: Tree, script: Buffer, named: Map<string, Named>, nowMs: number): Edit[] {
  return [...approxQuantiles(statement, script), ...currentTime(statement, script, nowMs), ...pathNames(statement, named)];
}

/**
 * APPROX_QUANTILES(x, n), which ZetaSQL's reference engine lacks, as exact quantiles of the
 * non-NULL values in order (m of them): element i is the value of rank ⌈i·m/n⌉, the first the
 * least and the last the greatest; NULL over no values. BigQuery's approximation equals this on
 * small inputs (docs/google-cloud.md).
 */
function approxQuantiles(statement: Tree, script: Buffer): Edit[] {
  return findAll(statement, 'astFunctionCallNode')
    .filter((call) => pathOf(call.function as Tree).join('.').toUpperCase() === 'APPROX_QUANTILES')
    .map((call) => {
      const args = (call.arguments as Tree[] | undefined) ?? [];
      const modifier = String(call.nullHandlingModifier ?? 0);
      if (args.length !== 2 || call.distinct === true || !['0', 'DEFAULT_NULL_HANDLING', '1', 'IGNORE_NULLS'].includes(modifier)) {
        throw new BigQueryError('invalidQuery', 'the local BigQuery maps APPROX_QUANTILES(expression, n) only (no DISTINCT, RESPECT NULLS or clauses)');
      }
      const text = (arg: Tree) => {
        const { start, end } = rangeOf(concrete(arg).node);
        return script.subarray(start, end).toString('utf8');
      };
      const [x, n] = [text(args[0]!), Number(text(args[1]!))];
      if (!Number.isInteger(n) || n < 1 || n > 100) throw new BigQueryError('invalidQuery', 'the local BigQuery maps APPROX_QUANTILES with a literal number of quantiles (1 to 100) only');
      const sorted = `ARRAY_AGG((${x}) IGNORE NULLS ORDER BY (${x}))`;
      const count = `COUNT(${x})`;
      const elements = Array.from({ length: n + 1 }, (_, i) => {
        const index = i === 0 ? '0' : i === n ? `${count} - 1` : `DIV(${i} * ${count} + ${n - 1}, ${n}) - 1`;
        return `${sorted}[SAFE_OFFSET(${index})]`;
      });
      const { start, end } = rangeOf(call);
      return { start, end, text: `IF(${count} = 0, NULL, [${elements.join(', ')}])` };
    });
}

/**
 * CURRENT_TIMESTAMP() and CURRENT_DATE(zone) as of this process's clock, the one that stamps the
 * table versions time travel reads: the engine is another process, whose clock need not agree
 * (under faketime each process's clock starts anew). One instant per statement, as BigQuery's.
 */
function currentTime(statement: Tree, script: Buffer, nowMs: number): Edit[] {
  return findAll(statement, 'astFunctionCallNode')
    .filter((call) => ['CURRENT_TIMESTAMP', 'CURRENT_DATE'].includes(pathOf(call.function as Tree).join('.').toUpperCase()))
    .map((call) => {
      const name = pathOf(call.function as Tree).join('.').toUpperCase();
      const args = (call.arguments as Tree[] | undefined) ?? [];
      const instant = `TIMESTAMP_MICROS(${nowMs * 1000})`;
      if (name === 'CURRENT_TIMESTAMP' && args.length === 0) return { ...rangeOf(call), text: instant };
      if (name === 'CURRENT_DATE' && args.length <= 1) {
        const zone = args[0] ? `, ${script.subarray(rangeOf(concrete(args[0]).node).start, rangeOf(concrete(args[0]).node).end).toString('utf8')}` : '';
        return { ...rangeOf(call), text: `DATE(${instant}${zone})` };
      }
      throw new BigQueryError('invalidQuery', `the local BigQuery maps ${name} with no argument (or a time zone for CURRENT_DATE) only`);
    });
}

/** A table named by an unquoted path (`ds.t`) as one backquoted name, the form the catalog holds. */
function pathNames(statement: Tree, named: Map<string, Named>): Edit[] {
  return findAll(statement, 'pathExpr')
    .concat(findAll(statement, 'targetPath').map((t) => concrete(t).node))
    .filter((path) => pathOf(path).length > 1 && named.has(pathOf(path).join('.').toLowerCase()))
    .map((path) => ({ ...rangeOf(path), text: `\`${pathOf(path).join('.').replaceAll('`', '\\`')}\`` }));
}
