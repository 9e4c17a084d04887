import type { AgeGate } from '../core/due.js';
import type { RotateModeFlags } from '../core/rotate-mode.js';
import { UsageError } from '../errors.js';
import { DEFAULT_VERIFY_OPTIONS, type VerifyOptions } from '../rotation/verify.js';
import { checkMfaCode } from '../core/mfa-code.js';

/** --verify-timeout and --verify-successes, of the commands that check that a key works before going on. */
export interface VerifyFlags {
  verifyTimeout: number;
  verifySuccesses: number;
}

/** Refuses, before any AWS call, a timeout too short for the checks asked for (one a second). */
export function verifyOptionsFromFlags(flags: VerifyFlags): Pick<VerifyOptions, 'timeoutMs' | 'successes'> {
  const timeoutMs = Math.round(flags.verifyTimeout * 1000);
  const neededMs = (flags.verifySuccesses - 1) * DEFAULT_VERIFY_OPTIONS.successIntervalMs;
  if (timeoutMs <= neededMs) {
    throw new UsageError(
      `--verify-timeout ${flags.verifyTimeout} is too short for --verify-successes ${flags.verifySuccesses}: the checks alone take ${neededMs / 1000} s (one a second).`,
      `Give --verify-timeout more than ${neededMs / 1000} seconds (the default is 30), or ask for fewer --verify-successes.`,
    );
  }
  return { timeoutMs, successes: flags.verifySuccesses };
}

/** --mfa-serial and --mfa-code imply --mfa (for a profile's own rotation without a role that takes the code). */
export function wantsMfa(flags: { mfa?: boolean; mfaSerial?: string; mfaCode?: string }): boolean {
  return Boolean(flags.mfa || flags.mfaSerial !== undefined || flags.mfaCode !== undefined);
}

/** --mfa-code, checked (six digits) before anything else happens. */
export function mfaCodeOf(flags: { mfaCode?: string }): string | undefined {
  return flags.mfaCode === undefined ? undefined : checkMfaCode(flags.mfaCode);
}

/** The flags of `rotate` as commander gives them; most of those that choose the mode are named as in RotateModeFlags. */
export interface RotateFlags extends Omit<RotateModeFlags, 'profiles' | 'deleteOld' | 'mfa'>, VerifyFlags {
  /** Repeated --profile gives an array (several profiles, cli/commands/rotate-route.ts). */
  profile?: string | string[];
  /** --profiles a,b,c (as aws-rotate-iam-keys spells it). */
  profiles?: string[];
  /** `rotate PROFILE` (as aws-vault spells it). */
  positionalProfile?: string;
  yes?: boolean;
  delete?: boolean;
  mfa?: boolean;
  mfaSerial?: string;
  mfaCode?: string;
  dryRun?: boolean;
  json?: boolean;
}

/** The profiles named by `rotate PROFILE`, --profile (repeatable) and --profiles a,b,c, in that order. */
export function profilesOf(flags: Pick<RotateFlags, 'profile' | 'profiles' | 'positionalProfile'>): string[] {
  const repeated = flags.profile === undefined ? [] : Array.isArray(flags.profile) ? flags.profile : [flags.profile];
  return [...(flags.positionalProfile !== undefined ? [flags.positionalProfile] : []), ...repeated, ...(flags.profiles ?? [])];
}

/**
 * AWS_REKEY_NOW (test-only, undocumented in --help): the "now" that key ages are counted from, because no
 * IAM implementation lets a test backdate a key. The audit report's freshness is still judged by the real clock.
 */
export function testNow(env: NodeJS.ProcessEnv): Date | undefined {
  const value = env.AWS_REKEY_NOW?.trim();
  if (!value) return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new UsageError(`AWS_REKEY_NOW is not a date: '${value}'.`, 'Unset it: it exists for tests only.');
  return date;
}

/** --if-older-than DAYS, counted from now. */
export function ageGateOf(flags: { ifOlderThan?: number }, env: NodeJS.ProcessEnv): AgeGate | undefined {
  return flags.ifOlderThan === undefined ? undefined : { days: flags.ifOlderThan, now: testNow(env) ?? new Date() };
}
