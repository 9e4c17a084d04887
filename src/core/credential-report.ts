import { RekeyError } from '../errors.js';
import { ROOT_USER_NAME, type AuditKeyRecord } from './audit.js';
import { plural } from './plural.js';

/**
 * The IAM credential report (GetCredentialReport, text/csv): one row per IAM user plus `<root_account>`.
 * It has no access key ids: keys are `access_key_1` and `access_key_2` of their user, told apart by
 * `access_key_N_last_rotated`, which is the key's creation time. Values that mean "nothing": `N/A`
 * (no such key, never used), `no_information`, `not_supported`.
 */
export interface CredentialReportRow {
  user: string;
  arn: string;
  root: boolean;
  keys: AuditKeyRecord[];
}

/** The report's content could not be read as a credential report. */
export class CredentialReportFormatError extends RekeyError {
  constructor(message: string) {
    super('CREDENTIAL_REPORT_MALFORMED', message, {
      hint: 'Audit with the per-user calls instead: --source api.',
    });
  }
}

const REQUIRED_COLUMNS = ['user', 'arn'];
const KEY_COLUMNS = ['active', 'last_rotated', 'last_used_date'];

export function parseCredentialReport(csv: string): CredentialReportRow[] {
  const rows = parseCsv(csv);
  const header = rows.shift();
  if (!header || (header.length === 1 && header[0] === '')) {
    throw new CredentialReportFormatError('The credential report is empty.');
  }
  const index = new Map(header.map((name, i) => [name.trim(), i]));
  const required = [...REQUIRED_COLUMNS, ...[1, 2].flatMap((n) => KEY_COLUMNS.map((c) => `access_key_${n}_${c}`))];
  const missing = required.filter((name) => !index.has(name));
  if (missing.length > 0) {
    throw new CredentialReportFormatError(`The credential report lacks the column${missing.length === 1 ? '' : 's'} ${missing.join(', ')}.`);
  }
  const out: CredentialReportRow[] = [];
  rows.forEach((fields, i) => {
    if (fields.length === 1 && fields[0] === '') return;
    if (fields.length !== header.length) {
      throw new CredentialReportFormatError(
        `Line ${i + 2} of the credential report has ${plural(fields.length, 'field')}; its header has ${header.length}.`,
      );
    }
    const get = (name: string): string | undefined => {
      const at = index.get(name);
      return at === undefined ? undefined : fields[at];
    };
    // Stryker disable next-line StringLiteral: equivalent, the default is there for the types: both columns are required above and the line has them all.
    const required = (name: 'user' | 'arn'): string => get(name) ?? '';
    const user = required('user');
    const arn = required('arn');
    const root = user === ROOT_USER_NAME;
    const keys: AuditKeyRecord[] = [];
    for (const slot of [1, 2] as const) {
      const prefix = `access_key_${slot}_`;
      const rotated = get(`${prefix}last_rotated`);
      const active = get(`${prefix}active`) === 'true';
      const createDate = parseReportDate(rotated, `${prefix}last_rotated`, i + 2);
      // A slot with neither a date nor an active flag holds no key.
      if (!createDate && !active) continue;
      const record: AuditKeyRecord = { userName: user, userArn: arn, slot, active };
      if (root) record.root = true;
      if (createDate) record.createDate = createDate;
      const lastUsed = parseReportDate(get(`${prefix}last_used_date`), `${prefix}last_used_date`, i + 2);
      if (lastUsed) record.lastUsedDate = lastUsed;
      const service = meaningful(get(`${prefix}last_used_service`));
      if (service) record.lastUsedService = service;
      const region = meaningful(get(`${prefix}last_used_region`));
      if (region) record.lastUsedRegion = region;
      keys.push(record);
    }
    out.push({ user, arn, root, keys });
  });
  return out;
}

function meaningful(value: string | undefined): string | undefined {
  const v = value?.trim();
  if (!v || v === 'N/A' || v === 'no_information' || v === 'not_supported') return undefined;
  return v;
}

function parseReportDate(value: string | undefined, column: string, line: number): Date | undefined {
  const v = meaningful(value);
  if (v === undefined) return undefined;
  const date = new Date(v);
  if (Number.isNaN(date.getTime())) {
    throw new CredentialReportFormatError(`Line ${line} of the credential report has '${v}' in ${column}, which is not a date.`);
  }
  return date;
}

/** RFC 4180: fields separated by commas, rows by CRLF or LF, `"…"` quoting with `""` for a quote. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const input = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  while (i < input.length) {
    const ch = input[i];
    if (quoted) {
      if (ch === '"') {
        if (input[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i += 1;
        continue;
      }
      field += ch;
      i += 1;
      continue;
    }
    if (ch === '"' && field === '') {
      quoted = true;
    } else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      if (ch === '\r' && input[i + 1] === '\n') i += 1;
    } else {
      field += ch;
    }
    i += 1;
  }
  if (quoted) throw new CredentialReportFormatError('The credential report ends inside a quoted field.');
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
