// Reading the parse and resolved trees the ZetaSQL engine returns: each abstract node holds the
// concrete one under the name it gives in `node`, and a node's position in the SQL text sits at
// the end of its `parent` chain.
import type { Tree } from './zetasql-engine.js';

/** The concrete node inside an abstract one (`astDdlStatementNode` → … → `astCreateTableStatementNode`). */
export function concrete(tree: Tree): { kind: string; node: Tree } {
  let node = tree;
  let kind = '';
  while (typeof node.node === 'string' && node[node.node] && typeof node[node.node] === 'object') {
    kind = node.node;
    node = node[node.node] as Tree;
  }
  return { kind, node };
}

/** The node's byte range in the SQL it was parsed from. */
export function rangeOf(node: Tree): { start: number; end: number } {
  for (let at: Tree | undefined = node; at; at = at.parent as Tree | undefined) {
    const range = at.parseLocationRange as { start: number; end: number } | undefined;
    if (range) return { start: range.start, end: range.end };
  }
  throw new Error('the parse tree gives no position for a node');
}

/** Every value under `key` anywhere in the tree, depth first. */
export function findAll(tree: unknown, key: string, found: Tree[] = []): Tree[] {
  if (tree === null || typeof tree !== 'object') return found;
  for (const [name, child] of Object.entries(tree)) {
    if (name === key && child && typeof child === 'object') found.push(child as Tree);
    findAll(child, key, found);
  }
  return found;
}

/** The first value under `key` that is not null: the node's own, else depth first below it. */
export function findFirst(tree: unknown, key: string): unknown {
  if (tree === null || typeof tree !== 'object') return undefined;
  const value = (tree as Record<string, unknown>)[key];
  if (value !== undefined && value !== null) return value;
  for (const child of Object.values(tree)) {
    const found = findFirst(child, key);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The dotted name of a path expression (`names: [{idString}]`). */
export function pathOf(path: Tree | undefined): string[] {
  return ((path?.names as { idString: string }[] | undefined) ?? []).map((n) => n.idString);
}

/** A change to a statement's text: bytes [start, end) become `text`. */
export interface Edit {
  start: number;
  end: number;
  text: string;
}

/** `sql` (bytes from `offset` of the script) with `edits` (positions in the script) made. */
export function applyEdits(sql: Buffer, offset: number, edits: Edit[]): string {
  let text = sql;
  for (const edit of [...edits].sort((a, b) => b.start - a.start)) {
    text = Buffer.concat([text.subarray(0, edit.start - offset), Buffer.from(edit.text), text.subarray(edit.end - offset)]);
  }
  return text.toString('utf8');
}
