import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelGraphError } from '../util/errors.js';
import { referencesIn } from './template.js';

export type Materialization = 'temp' | 'partitioned';

export interface Model {
  name: string;
  file: string;
  sql: string;
  materialized: Materialization;
  description: string;
  dependsOn: string[];
  /**
   * `-- reach: before, after` (cart_recoveries): the model's rows of a date depend on other dates'
   * events, so a run computes it for its dates and the days from `before` to `after` around each
   * (where the warehouse has their events), not for its dates alone.
   */
  reach?: { before: number; after: number };
}

/** Relations the load step produces; models build on them. */
export const LOADED_RELATIONS = ['stg_events', 'stg_event_items'] as const;

export const MODELS_DIR = fileURLToPath(new URL('./sql/', import.meta.url));
/** The GA4 Data API's models, on the raw report tables (`raw_ga4_api_<report>`). */
export const API_MODELS_DIR = fileURLToPath(new URL('./ga4-api/', import.meta.url));

/** Reads every `*.sql` model with its header (`-- materialized: …`, `-- description: …`). */
export async function readModels(dir = MODELS_DIR): Promise<Model[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  return Promise.all(
    files.map(async (f) => {
      const file = join(dir, f);
      const sql = await readFile(file, 'utf8');
      const header = Object.fromEntries(
        [...sql.matchAll(/^--\s*(materialized|description|reach):\s*(.+)$/gm)].map((m) => [m[1]!, m[2]!.trim()]),
      );
      const materialized = header.materialized === 'temp' ? 'temp' : 'partitioned';
      const reach = header.reach === undefined ? undefined : reachOf(header.reach, file);
      return { name: basename(f, '.sql'), file, sql, materialized, description: header.description ?? '', dependsOn: [...new Set(referencesIn(sql, file))], ...(reach ? { reach } : {}) };
    }),
  );
}

/** `-- reach: -1, 16`: whole days before (negative) and after the run's dates. */
function reachOf(text: string, file: string): { before: number; after: number } {
  const match = /^(-?\d+)\s*,\s*(-?\d+)$/.exec(text);
  if (!match || Number(match[1]) > 0 || Number(match[2]) < 0) throw new Error(`${file}: -- reach: takes the days before (0 or less) and after (0 or more), e.g. -1, 16; got ${text}`);
  return { before: -Number(match[1]), after: Number(match[2]) };
}

/**
 * Checks the graph before anything runs and returns the models in dependency order (ties by
 * name). Every problem is collected first — a reference nothing produces, a cycle as its chain
 * `a > b > a`, a required model that is missing — then reported together (Dataform's way).
 */
export function planModels(models: Model[], required: readonly string[] = [], loadedRelations: readonly string[] = LOADED_RELATIONS): Model[] {
  const problems: string[] = [];
  const byName = new Map(models.map((m) => [m.name, m]));
  const loaded = new Set<string>(loadedRelations);
  for (const model of models) {
    for (const dep of model.dependsOn) {
      if (!byName.has(dep) && !loaded.has(dep)) {
        problems.push(`${model.file}: model ${model.name} references '${dep}', which no model or load step produces`);
      }
    }
  }
  for (const name of required) {
    if (!byName.has(name)) problems.push(`model ${name} is missing (the contract publishes it)`);
  }
  for (const cycle of findCycles(models, byName)) problems.push(`cycle: ${cycle.join(' > ')}`);
  if (problems.length > 0) throw new ModelGraphError(problems);

  const ordered: Model[] = [];
  const placed = new Set<string>();
  const remaining = [...models].sort((a, b) => a.name.localeCompare(b.name));
  while (remaining.length > 0) {
    const next = remaining.findIndex((m) => m.dependsOn.every((d) => placed.has(d) || loaded.has(d)));
    const [model] = remaining.splice(next, 1);
    ordered.push(model!);
    placed.add(model!.name);
  }
  return ordered;
}

function findCycles(models: Model[], byName: Map<string, Model>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const seen = new Set<string>();
  const visit = (name: string, path: string[]) => {
    const mark = state.get(name);
    if (mark === 'done') return;
    if (mark === 'visiting') {
      const cycle = [...path.slice(path.indexOf(name)), name];
      const key = [...cycle.slice(0, -1)].sort().join(',');
      if (!seen.has(key)) {
        seen.add(key);
        cycles.push(cycle);
      }
      return;
    }
    state.set(name, 'visiting');
    for (const dep of byName.get(name)?.dependsOn ?? []) if (byName.has(dep)) visit(dep, [...path, name]);
    state.set(name, 'done');
  };
  for (const model of [...models].sort((a, b) => a.name.localeCompare(b.name))) visit(model.name, []);
  return cycles;
}
