import type { CredentialsInput } from '../aws/clients.js';
import type { IamApi } from '../aws/gateway.js';
import type { MfaApi } from '../aws/mfa.js';
import { parsePrincipalArn } from '../core/arn.js';
import { maskKeyId } from '../core/mask.js';
import { checkMfaCode } from '../core/mfa-code.js';
import { targetCommand } from '../core/next-command.js';
import { planRotation, type KeyHolders, type RotationPlan } from '../core/plan.js';
import { shellQuote } from '../core/shell.js';
import type { AccessKeyInfo, CallerIdentity, StaticCredentials } from '../core/types.js';
import { findProfilesWithKey } from '../credentials/ini.js';
import { AwsError, ProfileError, UnsafeRotationError, UsageError } from '../errors.js';
import type { Runtime } from '../rotation/runtime.js';
import type { ProfileContext } from '../session/profile-context.js';
import type { RotateOptions } from './rotate-profile.js';

/*
 * The steps of rotateProfile (rotate-profile.ts) before the lifecycle starts: identify the user (and open an
 * MFA session), inspect its keys, decide the plan.
 */

export interface Session {
  identity: CallerIdentity;
  userName: string;
  selfCredentials: StaticCredentials;
  /** Credentials for IAM calls: the profile's key, an --auth-profile's, or an MFA session of either. */
  iamCredentials: CredentialsInput;
  /** True when IAM calls are made with the profile's own key (then the new key can make them next). */
  selfAuth: boolean;
}

export interface ProfileRuntime extends Runtime {
  fileLock: <T>(path: string, fn: () => Promise<T>) => Promise<T>;
}

export async function identify(ctx: ProfileContext, options: RotateOptions, rt: ProfileRuntime): Promise<Session> {
  const selfCredentials = selfCredentialsOf(ctx);
  let identity: CallerIdentity;
  try {
    identity = await ctx.gateway.getCallerIdentity(selfCredentials);
  } catch (error) {
    if (error instanceof AwsError && error.code === 'INVALID_CREDENTIALS') {
      throw new AwsError('KEY_REJECTED', error.action, error.awsCode, `AWS does not accept the key ${maskKeyId(ctx.key.accessKeyId)} of profile ${ctx.profile}: it is unknown, deleted or inactive.`, {
        hint: 'Check it with the console, or list the user\'s keys with another profile (aws-rekey keys --user NAME --profile ADMIN). A key in aws-cn or aws-us-gov needs AWS_REGION set to a region there.',
        cause: error,
      });
    }
    throw error;
  }
  const principal = parsePrincipalArn(identity.arn);
  if (principal?.kind === 'root') {
    throw new UnsafeRotationError(
      'ROOT_KEYS',
      `Profile ${ctx.profile} holds an access key of the root user of account ${identity.account}. aws-rekey does not rotate root keys.`,
      'AWS advises deleting root access keys: sign in as root, delete the key under Security credentials, and use an IAM user or role instead.',
    );
  }
  if (principal?.kind !== 'user' || !principal.userName) {
    throw new ProfileError('NOT_AN_IAM_USER', `The key of profile ${ctx.profile} belongs to ${identity.arn}, not to an IAM user.`, {
      hint: 'Only IAM users have long-lived access keys to rotate.',
    });
  }
  const userName = principal.userName;
  let iamCredentials: CredentialsInput = ctx.authCredentials ?? selfCredentials;
  if (options.mfa && ctx.authMfaSerial) {
    // The role is assumed with MFA already (its mfa_serial): that session is the MFA session.
    if (options.mfa.serialNumber !== undefined && options.mfa.serialNumber !== ctx.authMfaSerial) {
      throw new UsageError(
        `--mfa-serial ${options.mfa.serialNumber} differs from the mfa_serial (${ctx.authMfaSerial}) of the auth profile, whose role is assumed with that device.`,
        'Drop --mfa-serial: the auth profile names its device.',
      );
    }
  } else if (options.mfa) {
    const serialNumber = options.mfa.serialNumber ?? (await findMfaDevice(ctx.mfa, iamCredentials, userName));
    let tokenCode = options.mfa.tokenCode;
    if (!tokenCode) {
      if (!rt.prompter.interactive) {
        throw new UsageError(`An MFA code for ${serialNumber} is needed and there is no terminal to ask for it.`, 'Pass --mfa-code CODE.');
      }
      tokenCode = (await rt.prompter.input(`Enter MFA code for ${serialNumber}:`, { secret: true })).trim();
    }
    tokenCode = checkMfaCode(tokenCode);
    iamCredentials = await ctx.gateway.getSessionToken(iamCredentials, { serialNumber, tokenCode });
  }
  return { identity, userName, selfCredentials, iamCredentials, selfAuth: signsOwnCalls(ctx, options) };
}

/** The profile's own key makes the IAM calls: no --auth-profile, no MFA session. */
export function signsOwnCalls(ctx: ProfileContext, options: RotateOptions): boolean {
  return !ctx.authCredentials && !options.mfa;
}

export function selfCredentialsOf(ctx: ProfileContext): StaticCredentials {
  return { accessKeyId: ctx.key.accessKeyId, secretAccessKey: ctx.key.secretAccessKey };
}

type OwnKeys = Array<AccessKeyInfo & { userName: string }>;

/**
 * A key that signs its own IAM calls can list its user's keys (and look up its own last use) before STS has
 * named the user: started with the identify step, this saves a round trip. Settled, never rejected: the
 * answer is used only once identify has succeeded.
 */
export function inspectOwnKeys(iam: IamApi, currentKeyId: string): Promise<{ keys: OwnKeys } | { error: unknown }> {
  const currentUse = iam.getAccessKeyLastUsed(currentKeyId, 'the profile key');
  currentUse.catch(() => undefined);
  return iam
    .listOwnAccessKeys()
    .then((keys) =>
      Promise.all(
        keys.map(async (key) => ({
          ...key,
          lastUsed: await (key.accessKeyId === currentKeyId ? currentUse : iam.getAccessKeyLastUsed(key.accessKeyId, `key of user ${key.userName}`)),
        })),
      ),
    )
    .then(
      (keys) => ({ keys }),
      (error: unknown) => ({ error }),
    );
}

export async function inspectKeys(
  iam: IamApi,
  ctx: ProfileContext,
  session: Session,
  early?: Promise<{ keys: OwnKeys } | { error: unknown }>,
): Promise<AccessKeyInfo[]> {
  const own = await early;
  if (own && 'error' in own && !(own.error instanceof AwsError && own.error.code === 'NO_SUCH_ENTITY')) throw own.error;
  // Only a listing that is surely this user's is used; otherwise (IAM-compatible endpoints that name a
  // placeholder user for an unknown key) the keys are listed again by name.
  if (own && 'keys' in own && own.keys.every((k) => k.userName === session.userName) && own.keys.some((k) => k.accessKeyId === ctx.key.accessKeyId)) {
    return own.keys.map(({ userName: _owner, ...key }) => key);
  }
  try {
    return await iam.listAccessKeys(session.userName, { lastUsed: true });
  } catch (error) {
    // AWS rejects an unknown key in GetCallerIdentity; IAM-compatible endpoints such as moto name a placeholder user instead.
    if (error instanceof AwsError && error.code === 'NO_SUCH_ENTITY' && error.action === 'iam:ListAccessKeys') {
      throw new AwsError(
        'KEY_UNKNOWN',
        error.action,
        error.awsCode,
        `The key ${maskKeyId(ctx.key.accessKeyId)} of profile ${ctx.profile} is unknown to IAM: STS names ${session.identity.arn} as its owner, but IAM has no user ${session.userName}.`,
        { hint: `Put a working key of your IAM user in the profile (aws configure --profile ${shellQuote(ctx.profile)}), then run aws-rekey again.`, cause: error },
      );
    }
    throw error;
  }
}

async function findMfaDevice(mfa: MfaApi, credentials: CredentialsInput, userName: string): Promise<string> {
  const devices = await mfa.listMfaDevices(credentials, userName);
  const first = devices[0];
  if (!first) {
    throw new UsageError(`IAM user ${userName} has no MFA device.`, 'Enable one in the IAM console, or pass --mfa-serial ARN.');
  }
  return first;
}

export async function decidePlan(keys: AccessKeyInfo[], ctx: ProfileContext, session: Session, options: RotateOptions, rt: ProfileRuntime): Promise<RotationPlan> {
  const holders: Record<string, KeyHolders> = Object.fromEntries(
    keys.map((key) => [key.accessKeyId, { credentials: findProfilesWithKey(ctx.credentials, key.accessKeyId), config: findProfilesWithKey(ctx.config, key.accessKeyId, 'config') }]),
  );
  const planOptions = {
    userName: session.userName,
    currentKeyId: ctx.key.accessKeyId,
    profiles: ctx.key.profiles,
    configProfiles: ctx.key.configProfiles,
    holders,
    files: { credentials: ctx.credentialsPath, config: ctx.configPath },
    deleteOld: options.deleteOld ?? false,
    allowDeleteKeyId: options.deleteKeyId,
    listKeysCommand: targetCommand('keys', { profile: ctx.profile, ...(options.authProfile !== undefined ? { authProfile: options.authProfile } : {}) }, ctx.env),
  };
  try {
    return planRotation(keys, planOptions);
  } catch (error) {
    if (!(error instanceof UnsafeRotationError) || error.code !== 'OTHER_KEY_ACTIVE') throw error;
    if (options.yes) throw refusedDespiteYes(error);
    // The one way past an active other key without a flag: a person types its id.
    if (!rt.prompter.interactive) throw error;
    const other = keys.find((k) => k.accessKeyId !== ctx.key.accessKeyId);
    if (!other) throw error;
    rt.reporter.warn(error.message);
    const typed = (await rt.prompter.input(`To delete it, type its key id (${maskKeyId(other.accessKeyId)}); press Enter to stop:`)).trim();
    if (typed !== other.accessKeyId) throw error;
    return planRotation(keys, { ...planOptions, allowDeleteKeyId: typed });
  }
}

/** Scripts written for aws-rotate-key pass -y and expect the other key to go: say why we do not, and how to allow it. */
function refusedDespiteYes(error: UnsafeRotationError): UnsafeRotationError {
  return new UnsafeRotationError(
    error.code,
    `${error.message} aws-rotate-key -y would have deleted it without asking; aws-rekey deletes an active key only when you name it.`,
    error.hint,
  );
}
