import type { Dialect, MaterializationDialect } from '../warehouse/dialect.js';
import type { Model } from './graph.js';
import { datesAround } from '../util/dates.js';
import { renderTemplate } from './template.js';

export interface CompiledStep {
  model: string;
  materialized: Model['materialized'];
  statements: string[];
}

/**
 * The SQL of every model step for the given dates, in plan order: pure text, no warehouse
 * (Dataform's plan-then-execute). Golden tests pin it per dialect.
 */
export function compileModels(plan: Model[], dialect: Dialect & MaterializationDialect, dates: readonly string[], reached?: (model: Model) => readonly string[]): CompiledStep[] {
  const temporary = new Set(plan.filter((m) => m.materialized === 'temp').map((m) => m.name));
  const tableOf = (name: string) => dialect.tableName(name, temporary.has(name));
  return plan.map((model) => {
    // A model with a reach is computed for the dates it reaches (the run's: those with events, `reached`; else all of them).
    const own = model.reach ? (reached?.(model) ?? datesAround(dates, -model.reach.before, model.reach.after)) : dates;
    const context = { dialect, runDates: dialect.dateList(own), datesAround: (before: number, after: number) => dialect.dateList(datesAround(own, before, after)), tableOf };
    const select = renderTemplate(model.file, stripHeader(model.sql), context).trim();
    const statements = model.materialized === 'temp' ? dialect.createTempTable(model.name, select) : dialect.replaceDates(model.name, select, own);
    return { model: model.name, materialized: model.materialized, statements };
  });
}

/** A model's SQL without its header lines (`-- materialized:`, `-- reach:`, `-- description:`, `-- assert …:`). */
export function stripHeader(sql: string): string {
  return sql.replace(/^(--\s*(materialized|description|reach|assert\s+\w+):.*\n)+/, '');
}
