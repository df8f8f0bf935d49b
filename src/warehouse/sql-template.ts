import { readFileSync } from 'node:fs';

/**
 * A SQL file with `{{name}}` placeholders, filled verbatim (a value's `$` is not a replacement
 * pattern). Filling fails, naming the file, when a placeholder has no value or a value has no
 * placeholder: half-filled SQL never reaches a warehouse.
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

  fill(values: Record<string, string>): string {
    const unused = new Set(Object.keys(values));
    const filled = this.text.replace(/\{\{(\w+)\}\}/g, (_whole, key: string) => {
      const value = values[key];
      if (value === undefined) throw new Error(`${this.name}: no value for the placeholder {{${key}}}`);
      unused.delete(key);
      return value;
    });
    if (unused.size > 0) throw new Error(`${this.name}: no placeholder for ${[...unused].map((k) => `{{${k}}}`).join(', ')}`);
    return filled;
  }
}
