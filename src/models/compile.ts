import type { Dialect, MaterializationDialect } from '../warehouse/dialect.js';
import type { Model } from './graph.js';
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
export function compileModels(plan: Model[], dialect: Dialect & MaterializationDialect, dates: readonly string[]): CompiledStep[] {
  const temporary = new Set(plan.filter((m) => m.materialized === 'temp').map((m) => m.name));
  const context = { dialect, runDates: dialect.dateList(dates), tableOf: (name: string) => dialect.tableName(name, temporary.has(name)) };
  return plan.map((model) => {
    const select = renderTemplate(model.file, stripHeader(model.sql), context).trim();
    const statements = model.materialized === 'temp' ? dialect.createTempTable(model.name, select) : dialect.replaceDates(model.name, select, dates);
    return { model: model.name, materialized: model.materialized, statements };
  });
}

function stripHeader(sql: string): string {
  return sql.replace(/^(--\s*(materialized|description|assert\s+\w+):.*\n)+/, '');
}
