/** The header of a real IAM credential report (docs.aws.amazon.com, "Getting credential reports"): 22 columns. */
export const REPORT_HEADER =
  'user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,' +
  'access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,' +
  'access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,' +
  'cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated';

/** One access key slot of a report line, as IAM writes it: `false,N/A,N/A,N/A,N/A` for an empty slot. */
export interface ReportSlot {
  active?: string;
  lastRotated?: string;
  lastUsedDate?: string;
  lastUsedRegion?: string;
  lastUsedService?: string;
}

/** A report line with the given user and key slots; the password, MFA and certificate columns say "none". */
export function reportRow(user: string, arn: string, slot1: ReportSlot = {}, slot2: ReportSlot = {}): string {
  const slot = (s: ReportSlot) => [s.active ?? 'false', s.lastRotated ?? 'N/A', s.lastUsedDate ?? 'N/A', s.lastUsedRegion ?? 'N/A', s.lastUsedService ?? 'N/A'];
  return [user, arn, '2020-01-01T00:00:00+00:00', 'false', 'N/A', 'N/A', 'N/A', 'false', ...slot(slot1), ...slot(slot2), 'false', 'N/A', 'false', 'N/A'].join(',');
}
