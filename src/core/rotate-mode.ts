import { UsageError } from '../errors.js';
import { destinationFlagsGiven, resolveDestination, type DestinationFlags, type DestinationSpec } from './destination.js';
import type { Stage } from './stage-decisions.js';

/** What `aws-rekey rotate` was asked to do, decided from its flags alone (pure). */
export type RotateMode =
  /** A profile's own key; `stage` for a staged rotation. */
  | { kind: 'profile'; profile?: string; stage?: Stage }
  /** Another IAM user's key, with the admin's credentials (`adminProfile`, else the default profile). */
  | { kind: 'user'; userName: string; adminProfile?: string; keyId?: string; stage?: Stage; destination?: DestinationSpec }
  /** Several profiles (`--profile` repeated) or every profile with a static key (`--all`). */
  | { kind: 'many'; profiles: string[] | 'all' };

export interface RotateModeFlags extends DestinationFlags {
  profiles: string[];
  authProfile?: string;
  all?: boolean;
  user?: string;
  key?: string;
  force?: boolean;
  stage?: Stage;
  deleteOld?: boolean;
  deleteKey?: string;
  /** An MFA session asked for (--mfa, --mfa-serial): sts:GetSessionToken with the profile's own key. */
  mfa?: boolean;
  /** --mfa-code: the code of that session, or of the MFA device an admin or auth profile's role is assumed with. */
  mfaCode?: string;
  /** --if-older-than DAYS. */
  ifOlderThan?: number;
}

export function resolveRotateMode(flags: RotateModeFlags): RotateMode {
  const destinations = destinationFlagsGiven(flags);
  const destinationGiven = destinations.length > 0;
  if (flags.kmsKeyId !== undefined && flags.toParameter === undefined) throw new UsageError('--kms-key-id goes with --to-parameter.', 'It names the KMS key that encrypts the SecureString parameter.');
  if (flags.execTimeout !== undefined && flags.exec === undefined) throw new UsageError('--exec-timeout goes with --exec.');
  const stage = flags.stage;
  const finishing = stage === 'retire' || stage === 'delete';
  if (finishing && (flags.deleteOld || flags.deleteKey !== undefined)) {
    throw new UsageError(`--stage ${stage} does not take -d/--delete or --delete-key.`, '--stage retire deactivates the old key; --stage delete deletes it once it is inactive.');
  }
  if (finishing && flags.ifOlderThan !== undefined) {
    throw new UsageError(`--if-older-than decides whether a new key is created; --stage ${stage} finishes a rotation already under way.`, 'Use it with a plain rotation or with --stage create.');
  }
  if (stage === 'create' && flags.deleteOld) {
    throw new UsageError('--stage create keeps the old key active, so -d/--delete does not apply.', 'Delete it later with --stage retire, then --stage delete.');
  }
  if (flags.force && !destinationGiven && stage !== 'retire') {
    throw new UsageError('--force applies only to --out, --to-profile and --to-env (overwrite) and to --stage retire (old key still in use).');
  }

  if (flags.user !== undefined) {
    const userName = flags.user.trim();
    if (!/^[\w+=,.@-]{1,64}$/.test(userName)) {
      throw new UsageError(`'${flags.user}' is not an IAM user name.`, 'Give the name only (letters, digits and +=,.@_-), not the ARN or its path.');
    }
    if (flags.all || flags.profiles.length > 1) throw new UsageError('--user rotates one user\'s key; it does not combine with --all or several --profile.');
    if (flags.profiles.length === 1 && flags.authProfile !== undefined) {
      throw new UsageError('With --user, --profile and --auth-profile both name the admin credentials: give one of them.');
    }
    if (flags.mfa) {
      throw new UsageError(
        '--mfa and --mfa-serial are not supported with --user.',
        "Use an admin profile whose config has role_arn and mfa_serial: give its code with --mfa-code CODE, or type it when asked.",
      );
    }
    const adminProfile = flags.profiles[0] ?? flags.authProfile;
    if (finishing) {
      if (destinationGiven || flags.key !== undefined) {
        throw new UsageError(`--stage ${stage} works on the recorded rotation: ${[...destinations, ...(flags.key !== undefined ? ['--key'] : [])].join(', ')} ${destinations.length + (flags.key !== undefined ? 1 : 0) > 1 ? 'do' : 'does'} not apply.`, "See the recorded rotations with 'aws-rekey status'.");
      }
      return { kind: 'user', userName, ...(adminProfile ? { adminProfile } : {}), stage };
    }
    const keyId = flags.key?.trim();
    if (keyId !== undefined && !/^[A-Z0-9]{16,128}$/.test(keyId)) throw new UsageError(`--key '${flags.key}' is not an access key id (AKIA…).`);
    return {
      kind: 'user',
      userName,
      ...(adminProfile ? { adminProfile } : {}),
      ...(keyId ? { keyId } : {}),
      ...(stage ? { stage } : {}),
      destination: resolveDestination(flags),
    };
  }

  if (destinationGiven) {
    throw new UsageError(`${destinations.join(', ')} ${destinations.length > 1 ? 'go' : 'goes'} with --user NAME: the new key of another IAM user is delivered there.`, 'A profile\'s own key is written back to the profiles that held it.');
  }
  if (flags.key !== undefined) throw new UsageError('--key goes with --user NAME: a profile\'s own key is the one it holds.');

  if (flags.all || flags.profiles.length > 1) {
    if (flags.all && flags.profiles.length > 0) throw new UsageError('Give either --all or --profile, not both.');
    if (stage) throw new UsageError('--stage works on one profile or one user at a time.', 'Run it once per profile.');
    if (flags.deleteKey !== undefined) throw new UsageError('--delete-key names a key of one user; it does not combine with --all or several --profile.', 'Rotate that profile on its own.');
    if (flags.mfa) {
      throw new UsageError('--mfa and --mfa-serial open one MFA session of one key; they do not combine with --all or several --profile.', 'Rotate those profiles one at a time, or use an --auth-profile (a role with mfa_serial takes --mfa-code).');
    }
    if (flags.mfaCode !== undefined && flags.authProfile === undefined) {
      throw new UsageError(
        '--mfa-code with --all or several --profile is the code of the --auth-profile\'s role (mfa_serial), and there is no --auth-profile.',
        'Add --auth-profile NAME (a role profile with mfa_serial), or rotate the profiles one at a time with --mfa.',
      );
    }
    return { kind: 'many', profiles: flags.all ? 'all' : dedupe(flags.profiles) };
  }
  if (finishing && flags.mfa) {
    throw new UsageError(`--mfa and --mfa-serial are not supported with --stage ${stage}.`, 'Use an --auth-profile whose config has role_arn and mfa_serial; give its code with --mfa-code CODE, or type it when asked.');
  }
  return { kind: 'profile', ...(flags.profiles[0] ? { profile: flags.profiles[0] } : {}), ...(stage ? { stage } : {}) };
}

function dedupe(names: string[]): string[] {
  return [...new Set(names)];
}
