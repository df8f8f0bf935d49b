import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { LineCounter, parseDocument, isScalar, type Document } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../util/errors.js';
import { configSchema, type CartlensConfig } from './schema.js';

export interface LoadedConfig {
  config: CartlensConfig;
  /** The config file; relative paths in it are resolved against its folder. */
  file: string;
  baseDir: string;
}

/**
 * file → YAML → `${ENV}` substitution → schema → typed config (Evidence's order: substituting
 * after parsing means a variable's text can never reshape the document). Every error names the
 * file, the key and, where known, the line.
 */
export async function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`${file}: cannot read the config file`, 'check the path given to --config', false, { cause: error });
  }
  return parseConfig(text, file, env);
}

export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const error = doc.errors[0]!;
    const line = error.linePos?.[0]?.line;
    throw new ConfigError(`${file}${line ? `:${line}` : ''}: invalid YAML: ${error.message.split('\n')[0]}`, 'fix the YAML syntax');
  }
  const raw: unknown = doc.toJS() ?? {};
  const substituted = substituteEnv(raw, [], file, doc, lineCounter, env);
  const parsed = configSchema.safeParse(substituted);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => describeIssue(issue, file, doc, lineCounter));
    throw new ConfigError(problems.join('; '), 'fix the keys named above (see docs/configuration.md)');
  }
  const baseDir = dirname(resolve(file));
  return { config: resolvePaths(parsed.data, baseDir), file, baseDir };
}

const PLACEHOLDER = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

function substituteEnv(value: unknown, path: (string | number)[], file: string, doc: Document, lines: LineCounter, env: NodeJS.ProcessEnv): unknown {
  if (typeof value === 'string') {
    return value.replace(PLACEHOLDER, (match, name: string | undefined) => {
      if (name === undefined) return '${'; // `$${` escapes a literal `${`
      const substitute = env[name];
      if (substitute === undefined) {
        throw new ConfigError(`${where(file, path, doc, lines)}: environment variable ${name} is not set`, `set ${name}, or remove the placeholder`);
      }
      return substitute;
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => substituteEnv(item, [...path, i], file, doc, lines, env));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, substituteEnv(item, [...path, key], file, doc, lines, env)]));
  }
  return value;
}

function describeIssue(issue: z.core.$ZodIssue, file: string, doc: Document, lines: LineCounter): string {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => `${where(file, [...path, key], doc, lines)}: unknown key '${[...path, key].join('.')}'`).join('; ');
  }
  const key = path.length > 0 ? path.join('.') : '(top level)';
  return `${where(file, path, doc, lines)}: ${key}: ${issue.message}`;
}

/** `file:line` for a key path, using the YAML node's position when the key exists. */
function where(file: string, path: (string | number)[], doc: Document, lines: LineCounter): string {
  for (let depth = path.length; depth > 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true);
    const offset = isScalar(node) || (node && typeof node === 'object' && 'range' in node) ? (node as { range?: [number, number, number] }).range?.[0] : undefined;
    if (offset !== undefined) return `${file}:${lines.linePos(offset).line}`;
  }
  return file;
}

function resolvePaths(config: CartlensConfig, baseDir: string): CartlensConfig {
  const at = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  // source.path stays a glob relative to the config folder; the source resolves it there.
  const source = config.source.type === "demo" ? { ...config.source, dir: at(config.source.dir) } : config.source;
  return {
    ...config,
    source,
    warehouse: config.warehouse.type === 'duckdb' ? { ...config.warehouse, path: at(config.warehouse.path) } : config.warehouse,
    export: config.export.type === 'local' ? { ...config.export, dir: at(config.export.dir) } : config.export,
    landing: { ...config.landing, dir: at(config.landing.dir), ...(config.landing.scratch_dir ? { scratch_dir: at(config.landing.scratch_dir) } : {}) },
  };
}
