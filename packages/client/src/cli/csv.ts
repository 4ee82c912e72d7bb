/**
 * CSV as RFC 4180 writes it (fields with a comma, quote, CR or LF quoted, quotes doubled, CRLF line ends), plus
 * the OWASP guard against formula injection: a field starting with `=`, `+`, `-`, `@`, tab or CR is prefixed
 * with `'`, so a spreadsheet shows caller-chosen text (externalIds, reasons) instead of running it.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvField(value: string): string {
  const guarded = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(guarded) ? `"${guarded.replace(/"/g, '""')}"` : guarded;
}

export function csvRow(fields: readonly string[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}
