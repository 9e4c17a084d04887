import { UsageError } from '../errors.js';

export const MFA_CODE_HINT = 'Give the current code shown by the MFA device (6 digits).';

/** What is wrong with an MFA code, if anything: devices show six digits. */
export function mfaCodeProblem(code: string): string | undefined {
  return /^\d{6}$/.test(code) ? undefined : `The MFA code must be 6 digits, not '${code}'.`;
}

/** --mfa-code, checked before anything is sent. */
export function checkMfaCode(code: string): string {
  const trimmed = code.trim();
  const problem = mfaCodeProblem(trimmed);
  if (problem) throw new UsageError(problem, MFA_CODE_HINT, 'MFA_CODE_INVALID');
  return trimmed;
}
