/** Control characters other than tab, LF and CR: the rest of C0, and DEL. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;

/**
 * Writes each control character but tab, LF and CR as its Unicode Control Picture (NUL → U+2400
 * `␀`, DEL → U+2421 `␡`): visible, one to one (two item_ids that differ only there stay two keys,
 * as dropping would not keep them), and none left for a C-string or `COPY` reader to choke on, or
 * for an HTML parser to refuse (NUL) or drop. The CSV files and every HTML page use this one
 * mapping, so a name reads the same in both (docs/decisions.md).
 */
export function withControlPictures(text: string): string {
  return text.replace(CONTROL, (c) => String.fromCharCode(c === '\u007f' ? 0x2421 : 0x2400 + c.charCodeAt(0)));
}
