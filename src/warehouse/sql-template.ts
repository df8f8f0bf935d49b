import { readFileSync } from 'node:fs';

/** `{{ name }}` or `{{ name(arguments) }}`; spaces inside the braces are optional. */
const PLACEHOLDER = /\{\{\s*([\s\S]*?)\s*\}\}/g;
const CALL = /^(\w+)\s*(?:\(([\s\S]*)\))?$/;

/** A placeholder as written: its name, and its arguments' text when it is a call. */
export interface Placeholder {
  name: string;
  /** The text between the parentheses of `{{ name(…) }}`; undefined for `{{ name }}`. */
  args: string | undefined;
}

/**
 * SQL text with `{{ … }}` placeholders — the one templating of cartlens' SQL: the warehouses' own
 * SQL files, the model files (whose placeholders are calls the dialect answers, src/models/template.ts)
 * and the Dataform repository made of both. Values go in verbatim (a value's `$` is not a
 * replacement pattern). Filling fails, naming the file, when a placeholder has no value or a value
 * has no placeholder: half-filled SQL never reaches a warehouse.
 */
export class SqlTemplate {
  private constructor(
    readonly name: string,
    private readonly text: string,
  ) {}

  static fromText(name: string, text: string): SqlTemplate {
    return new SqlTemplate(name, text);
  }

  /** Reads `file` (a URL beside the caller's module); with `stripComments`, lines that begin with `--` are dropped. */
  static read(file: URL, options: { stripComments?: boolean } = {}): SqlTemplate {
    const text = readFileSync(file, 'utf8');
    return new SqlTemplate(file.pathname.split('/').slice(-2).join('/'), options.stripComments ? text.replace(/^--.*\n/gm, '').trim() : text);
  }

  /** The placeholders, in order of appearance. */
  placeholders(): Placeholder[] {
    return [...this.text.matchAll(PLACEHOLDER)].map((match) => this.parse(match[1]!));
  }

  /** Fills each `{{name}}` with its value; every placeholder needs one, and every value its placeholder. */
  fill(values: Record<string, string>): string {
    const unused = new Set(Object.keys(values));
    const filled = this.expand(({ name, args }) => {
      const value = args === undefined && Object.hasOwn(values, name) ? values[name] : undefined;
      if (value !== undefined) unused.delete(name);
      return value;
    });
    if (unused.size > 0) throw new Error(`${this.name}: no placeholder for ${[...unused].map((k) => `{{${k}}}`).join(', ')}`);
    return filled;
  }

  /**
   * Replaces each placeholder with what `answer` gives for it; a placeholder it has no answer for
   * (undefined) fails, as does one that throws — with the file named.
   */
  expand(answer: (placeholder: Placeholder) => string | undefined): string {
    return this.text.replace(PLACEHOLDER, (_whole, body: string) => {
      const placeholder = this.parse(body);
      let value: string | undefined;
      try {
        value = answer(placeholder);
      } catch (error) {
        throw new Error(`${this.name}: ${(error as Error).message}`, { cause: error });
      }
      if (value === undefined) throw new Error(`${this.name}: no value for the placeholder {{${placeholder.args === undefined ? placeholder.name : `${placeholder.name}(…)`}}}`);
      return value;
    });
  }

  private parse(body: string): Placeholder {
    const call = CALL.exec(body);
    if (!call) throw new Error(`${this.name}: cannot read the placeholder {{ ${body} }}`);
    return { name: call[1]!, args: call[2] };
  }
}
