import type { RotateModeFlags } from '../core/rotate-mode.js';
import type { VerifyOptions } from '../rotation/verify.js';

/** --verify-timeout and --verify-successes, of the commands that check that a key works before going on. */
export interface VerifyFlags {
  verifyTimeout: number;
  verifySuccesses: number;
}

export function verifyOptionsFromFlags(flags: VerifyFlags): Pick<VerifyOptions, 'timeoutMs' | 'successes'> {
  return { timeoutMs: Math.round(flags.verifyTimeout * 1000), successes: flags.verifySuccesses };
}

/** --mfa-serial and --mfa-code imply --mfa. */
export function wantsMfa(flags: { mfa?: boolean; mfaSerial?: string; mfaCode?: string }): boolean {
  return Boolean(flags.mfa || flags.mfaSerial !== undefined || flags.mfaCode !== undefined);
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
