/** One CSV field (RFC 4180): quoted only when it holds a quote, a comma or a line break. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * A field of a CSV file that people open in a spreadsheet: a value the spreadsheet would evaluate as a
 * formula (a leading `=`, `+`, `-`, `@`, tab or carriage return; IAM user names may start with `=` or `+`)
 * gets a leading `'`, as the OWASP advice on CSV injection says, so that it is shown as text.
 */
export function spreadsheetField(value: string): string {
  return csvField(/^[=+\-@\t\r]/.test(value) ? `'${value}` : value);
}
