import type { ClientFactory, CredentialsInput } from '../aws/clients.js';
import type { AwsGateway, IamApi } from '../aws/gateway.js';
import { openAdminContext } from '../session/account-context.js';
import { defaultProfileName, openProfileContext } from '../session/profile-context.js';
import { getProfile } from '../credentials/ini.js';
import { maskKeyId } from '../core/mask.js';
import type { StagedKeys } from '../core/stage-decisions.js';
import type { AccessKeyInfo, StaticCredentials } from '../core/types.js';
import { findStagedForProfile, listStaged, readStagedUser, type StagedRotation } from '../credentials/staged-store.js';
import { readCredentialsFile, resolveCredentialsPath } from '../credentials/store.js';
import { describeAccount } from '../credentials/user-journal.js';
import { identifyCaller, refuseOtherAccount } from './user-account.js';
import { ProfileError, UsageError } from '../errors.js';
import type { Prompter } from '../rotation/ports.js';
import { mfaPrompt } from '../rotation/runtime.js';
import { nextCommand, targetCommand, type CommandTarget } from '../core/next-command.js';
import { describeTarget, nextStep, stagedCommand } from './status.js';

/**
 * What a staged step may act on: no plain rotation in the middle of a staged one, and `retire`, `delete`
 * and `rollback` only on a recorded rotation of this account whose new key the profile holds.
 */

export interface StagedTargetOptions {
  /** Self-rotation: the profile whose key is rotated. */
  profile?: string;
  /** Self-rotation: make the IAM calls with this profile's credentials. */
  authProfile?: string;
  /** Admin rotation: the IAM user. */
  userName?: string;
  /** Admin rotation: the admin's profile. */
  adminProfile?: string;
  /** The current code of the MFA device of the admin's (or --auth-profile's) role; asked for on a terminal otherwise. */
  mfaCode?: string;
  env?: NodeJS.ProcessEnv;
}

/** A plain rotation of a profile in the middle of a staged one would fight over the same two key slots. */
export async function refuseIfProfileStaged(profile: string | undefined, env: NodeJS.ProcessEnv): Promise<void> {
  const credentialsPath = resolveCredentialsPath(env);
  const records = await listStaged(credentialsPath);
  if (records.length === 0) return;
  const name = profile ?? defaultProfileName(env);
  const keyId = getProfile((await readCredentialsFile(credentialsPath)).doc, name)?.aws_access_key_id?.trim();
  const existing = findStagedForProfile(records, name, keyId ? [keyId] : []);
  if (existing) throw stagedInProgress(existing, env);
}

export function stagedInProgress(record: StagedRotation, env: NodeJS.ProcessEnv): UsageError {
  const undo = stagedCommand(record, env, 'rollback', ...(record.stage === 'created' ? ['--delete-new'] : []));
  return new UsageError(
    `A staged rotation of ${describeTarget(record)} is under way (stage '${record.stage}', new key ${maskKeyId(record.newKeyId)}, old key ${maskKeyId(record.oldKeyId)}).`,
    `Next: ${nextStep(record, env)}; or undo it with \`${undo}\`.`,
    'STAGED_IN_PROGRESS',
  );
}

export interface StagedTarget {
  credentialsPath: string;
  /** The AWS config file, whose profiles may hold keys too. */
  configPath: string;
  record: StagedRotation;
  iam: IamApi;
  gateway: AwsGateway;
  /** Makes the clients of other services (the Secrets Manager or SSM destination of `--user`) with the same setup. */
  factory?: ClientFactory;
  iamCredentials: CredentialsInput;
  env: NodeJS.ProcessEnv;
  /** Self-rotation without --auth-profile: the profile's key signs the IAM calls. */
  selfSigned: boolean;
  warnings: string[];
  destroy(): void;
}

/**
 * `rollback` also works when the profile holds the old key again (a rollback that stopped half-way);
 * retire and delete need the profile on the new key, or they would retire the key it holds.
 */
export async function openStagedTarget(options: StagedTargetOptions, prompter: Prompter, forRollback = false): Promise<StagedTarget> {
  const env = options.env ?? process.env;
  const mfa = { mfaCode: options.mfaCode, mfaCodeProvider: mfaPrompt(prompter) };
  if (options.userName !== undefined) {
    const ctx = await openAdminContext({ profile: options.adminProfile, env, ...mfa });
    let record: StagedRotation | undefined;
    try {
      const { ref } = await identifyCaller(ctx, options.userName);
      record = await readStagedUser(ctx.credentialsPath, ref);
      if (!record) {
        await refuseOtherAccount(ctx.credentialsPath, ref, 'staged rotation');
        throw noRecord(`user ${options.userName} in ${describeAccount(ref)}`, { userName: options.userName, adminProfile: ctx.adminProfile }, env);
      }
    } catch (error) {
      ctx.gateway.destroy();
      throw error;
    }
    return {
      credentialsPath: ctx.credentialsPath,
      configPath: ctx.configPath,
      // The commands printed from here on name this run's admin profile (records of 0.1.0 name none).
      record: { ...record, signedBy: ctx.adminProfile },
      iam: ctx.gateway.iam(ctx.credentials),
      gateway: ctx.gateway,
      factory: ctx.factory,
      iamCredentials: ctx.credentials,
      env,
      selfSigned: false,
      warnings: ctx.warnings,
      destroy: () => ctx.gateway.destroy(),
    };
  }
  const ctx = await openProfileContext({ profile: options.profile, authProfile: options.authProfile, env, ...mfa });
  try {
    const record = findStagedForProfile(await listStaged(ctx.credentialsPath), ctx.profile, [ctx.key.accessKeyId]);
    const target: CommandTarget = { profile: ctx.profile, ...(options.authProfile !== undefined ? { authProfile: options.authProfile } : {}) };
    if (!record) throw noRecord(`profile ${ctx.profile}`, target, env);
    const self: StaticCredentials = { accessKeyId: ctx.key.accessKeyId, secretAccessKey: ctx.key.secretAccessKey };
    const onOldKey = forRollback && ctx.key.accessKeyId === record.oldKeyId;
    if (ctx.key.accessKeyId !== record.newKeyId && !onOldKey) {
      throw new ProfileError(
        'PROFILE_NOT_ON_NEW_KEY',
        `Profile ${ctx.profile} holds ${maskKeyId(ctx.key.accessKeyId)}, not the new key ${maskKeyId(record.newKeyId)} of its staged rotation.`,
        {
          hint:
            ctx.key.accessKeyId === record.oldKeyId
              ? `The old key is back in the profile. Undo the staged rotation with \`${targetCommand('rollback', target, env, '--delete-new')}\`, or put the new key back.`
              : `Put the new key back in the profile (\`${nextCommand(['status'], env)}\` shows its id), then run this again.`,
        },
      );
    }
    const iamCredentials: CredentialsInput = ctx.authCredentials ?? self;
    return {
      credentialsPath: ctx.credentialsPath,
      configPath: ctx.configPath,
      record,
      iam: ctx.gateway.iam(iamCredentials),
      gateway: ctx.gateway,
      iamCredentials,
      env,
      selfSigned: !ctx.authCredentials && !onOldKey,
      warnings: ctx.warnings,
      destroy: () => ctx.gateway.destroy(),
    };
  } catch (error) {
    ctx.gateway.destroy();
    throw error;
  }
}

export function noRecord(what: string, target: CommandTarget, env: NodeJS.ProcessEnv): UsageError {
  const create = targetCommand('rotate', target, env, '--stage', 'create');
  // An admin's rotation also needs to know where the new key goes: that is the user's choice, so no ready command.
  const start = 'userName' in target ? `${create} and --out FILE, --to-profile NAME or --print-secret` : `\`${create}\``;
  return new UsageError(`No staged rotation is recorded for ${what}.`, `Start one with ${start}; \`${nextCommand(['status'], env)}\` lists those under way.`, 'NO_STAGED_ROTATION');
}

export function stagedKeys(record: StagedRotation, keys: readonly AccessKeyInfo[], env: NodeJS.ProcessEnv, ownUseUntilNow?: number): StagedKeys {
  // IAM's own clock for the creation time, when it still lists the key.
  const created = keys.find((k) => k.accessKeyId === record.newKeyId)?.createDate ?? new Date(record.newKeyCreatedAt);
  // Uses of the new key until aws-rekey last wrote the record were its own (verification, a retirement it
  // signed); so are those of this run until now when the profile's new key signs its calls (`ownUseUntilNow`).
  const ownUseUntil = Math.max(Date.parse(record.updatedAt), ownUseUntilNow ?? 0);
  return { oldKeyId: record.oldKeyId, newKeyId: record.newKeyId, newKeyCreatedAt: created, ownUseUntil: new Date(ownUseUntil), rollbackCommand: stagedCommand(record, env, 'rollback') };
}
