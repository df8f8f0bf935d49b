import { realpathSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { LineCounter, parseDocument, isScalar, type Document } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../util/errors.js';
import { globEnters, inputFolderOf } from '../util/input-glob.js';
import { configSchema, type CartlensConfig } from './schema.js';

export interface LoadedConfig {
  config: CartlensConfig;
  /** The config file; relative paths in it are resolved against its folder. */
  file: string;
  baseDir: string;
}

export interface LoadOptions {
  /**
   * Leaves `privacy.user_key_secret` out, its `${ENV}` never read: for commands that never use the
   * key (`cartlens dataform`), so they work where the secret is not set and cannot leak it.
   */
  withoutUserKeySecret?: boolean;
}

/**
 * file → YAML → `${ENV}` substitution → schema → typed config (Evidence's order: substituting
 * after parsing means a variable's text can never reshape the document). Every error names the
 * file, the key and, where known, the line.
 */
export async function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env, options: LoadOptions = {}): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`${file}: cannot read the config file`, 'check the path given to --config', false, { cause: error });
  }
  return parseConfig(text, file, env, options);
}

export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv = process.env, options: LoadOptions = {}): LoadedConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const error = doc.errors[0]!;
    const line = error.linePos?.[0]?.line;
    throw new ConfigError(`${file}${line ? `:${line}` : ''}: invalid YAML: ${error.message.split('\n')[0]}`, 'fix the YAML syntax');
  }
  const parsedYaml: unknown = doc.toJS() ?? {};
  const raw = options.withoutUserKeySecret ? withoutUserKeySecret(parsedYaml) : parsedYaml;
  const substituted = substituteEnv(raw, [], file, doc, lineCounter, env);
  const parsed = configSchema.safeParse(substituted);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => describeIssue(issue, file, doc, lineCounter, substituted));
    throw new ConfigError(problems.join('; '), 'fix the keys named above (see docs/configuration.md)');
  }
  const baseDir = dirname(resolve(file));
  const config = resolvePaths(parsed.data, baseDir);
  const overlaps = folderOverlaps(config, baseDir);
  if (overlaps.length > 0) {
    throw new ConfigError(
      overlaps.map(({ key, problem }) => `${where(file, key.split('.'), doc, lineCounter)}: ${key}: ${problem}`).join('; '),
      'give cartlens folders of its own: the landing, scratch and export folders may not hold the input, the warehouse, the config file or one another, nor lie where source.path reads',
    );
  }
  return { config, file, baseDir };
}

/** The document without `privacy.user_key_secret` (a copy: the rest is untouched). */
function withoutUserKeySecret(raw: unknown): unknown {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const { privacy } = raw as Record<string, unknown>;
  if (privacy === null || typeof privacy !== 'object' || Array.isArray(privacy)) return raw;
  const { user_key_secret: _omitted, ...rest } = privacy as Record<string, unknown>;
  return { ...raw, privacy: rest };
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

function describeIssue(issue: z.core.$ZodIssue, file: string, doc: Document, lines: LineCounter, raw: unknown): string {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeysAt(configSchema, path, raw);
    return issue.keys
      .map((key) => {
        const near = nearestKey(key, known);
        return `${where(file, [...path, key], doc, lines)}: unknown key '${[...path, key].join('.')}'${near ? ` (did you mean '${[...path, near].join('.')}'?)` : ''}`;
      })
      .join('; ');
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

/** The zod internals the key walk reads (zod 4's `_zod.def`). */
interface SchemaDef {
  type: string;
  shape?: Record<string, SchemaNode>;
  innerType?: SchemaNode;
  in?: SchemaNode;
  element?: SchemaNode;
  options?: SchemaNode[];
  discriminator?: string;
}
interface SchemaNode {
  _zod: { def: SchemaDef };
}

/** The keys the schema allows at `path` (for a `type:` union, those of the branch the value names). */
function knownKeysAt(schema: unknown, path: (string | number)[], raw: unknown): string[] {
  const branches = (node: SchemaNode, value: unknown): SchemaNode[] => {
    const def = node._zod.def;
    if (def.innerType) return branches(def.innerType, value);
    if (def.type === 'pipe' && def.in) return branches(def.in, value);
    if (def.type === 'union' && def.options) {
      const named = def.discriminator && value && typeof value === 'object' ? (value as Record<string, unknown>)[def.discriminator] : undefined;
      const chosen = def.options.filter((option) => option._zod.def.shape?.[def.discriminator ?? '']?._zod.def.type === 'literal' && literalOf(option._zod.def.shape[def.discriminator!]!) === named);
      return (chosen.length > 0 ? chosen : def.options).flatMap((option) => branches(option, value));
    }
    return [node];
  };
  let nodes = branches(schema as SchemaNode, raw);
  let value = raw;
  for (const step of path) {
    value = value && typeof value === 'object' ? (value as Record<string | number, unknown>)[step] : undefined;
    nodes = nodes.flatMap((node) => {
      const def = node._zod.def;
      const next = typeof step === 'number' ? def.element : def.shape?.[step];
      return next ? branches(next, value) : [];
    });
  }
  return [...new Set(nodes.flatMap((node) => Object.keys(node._zod.def.shape ?? {})))];
}

function literalOf(node: SchemaNode): unknown {
  return (node._zod.def as { values?: unknown[] }).values?.[0];
}

/** The known key a misspelt one most likely meant: at most 2 edits away (1 for short keys), else none. */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
  const limit = key.length <= 4 ? 1 : 2;
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance <= limit && (!best || distance < best.distance)) best = { key: candidate, distance };
  }
  return best?.key;
}

/** Levenshtein distance, with a swap of two neighbours counted as one edit (`trheads`). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** A place the config names: a folder cartlens writes and deletes in, or something it must never delete. */
interface Place {
  key: string;
  path: string;
  what: string;
}

/**
 * The landing, scratch and export folders (and the demo's folder, which it regenerates whole) may
 * not equal or contain the input, the warehouse, the config's folder or one another: cartlens
 * deletes inside them. The one nesting allowed is the scratch folder inside the landing folder,
 * its default place. Nor may they lie inside the input folder where the glob reads.
 */
function folderOverlaps(config: CartlensConfig, baseDir: string): { key: string; problem: string }[] {
  const written: Place[] = [
    { key: 'landing.dir', path: config.landing.dir, what: 'the landing folder' },
    ...(config.landing.scratch_dir ? [{ key: 'landing.scratch_dir', path: config.landing.scratch_dir, what: 'the scratch folder' }] : []),
    ...(config.export.type === 'local' ? [{ key: 'export.dir', path: config.export.dir, what: 'the export folder' }] : []),
    ...(config.source.type === 'demo' ? [{ key: 'source.dir', path: config.source.dir, what: 'the demo input folder' }] : []),
  ].map((place) => ({ ...place, path: canonical(place.path) }));
  const kept: Place[] = [
    { key: 'the config file', path: canonical(baseDir), what: `the config's folder (${basename(baseDir) || baseDir})` },
    ...(config.source.type === 'ga4-export-files' ? [{ key: 'source.path', path: canonical(inputFolderOf(config.source.path, baseDir)), what: 'the input folder (source.path)' }] : []),
    ...(config.warehouse.type === 'duckdb' ? [{ key: 'warehouse.path', path: canonical(config.warehouse.path), what: 'the warehouse (warehouse.path)' }] : []),
  ];
  const problems: { key: string; problem: string }[] = [];
  // The other way round: a folder cartlens writes in, inside the input folder where the glob
  // reads (`input/**`), would be read back as input by the next run.
  if (config.source.type === 'ga4-export-files') {
    const pattern = config.source.path;
    const input = inputFolderOf(pattern, baseDir);
    const canonicalInput = canonical(input);
    for (const place of written) {
      if (inside(place.path, canonicalInput) && globEnters(pattern, baseDir, join(input, relative(canonicalInput, place.path)))) {
        problems.push({ key: place.key, problem: `${place.path} is inside the input folder, where source.path (${pattern}) reads: the next run would read cartlens's own files as input` });
      }
    }
  }
  for (const place of written) {
    for (const other of kept) {
      if (place.path === other.path) problems.push({ key: place.key, problem: `${place.path} is ${other.what}` });
      else if (inside(other.path, place.path)) problems.push({ key: place.key, problem: `${place.path} contains ${other.what}` });
    }
    for (const other of written) {
      if (other === place) continue;
      const defaultNesting = place.key === 'landing.dir' && other.key === 'landing.scratch_dir';
      if (place.path === other.path && written.indexOf(place) < written.indexOf(other)) problems.push({ key: other.key, problem: `${other.path} is also ${place.key}` });
      else if (place.path !== other.path && inside(other.path, place.path) && !defaultNesting) problems.push({ key: place.key, problem: `${place.path} contains ${other.key} (${other.path})` });
    }
  }
  return problems;
}

/** Whether `path` is strictly inside `folder`. */
function inside(path: string, folder: string): boolean {
  return path.startsWith(folder.endsWith(sep) ? folder : folder + sep);
}

/** The path with symbolic links resolved as far as it exists (a link to the input is the input). */
function canonical(path: string): string {
  const absolute = resolve(path);
  for (let head = absolute, rest = ''; ; ) {
    try {
      return join(realpathSync.native(head), rest);
    } catch {
      const parent = dirname(head);
      if (parent === head) return absolute;
      rest = join(basename(head), rest);
      head = parent;
    }
  }
}
