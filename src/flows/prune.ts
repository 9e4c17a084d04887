import { parsePrincipalArn } from '../core/arn.js';
import { maskKeyId } from '../core/mask.js';
import { planPrune, type KeepReason, type PruneKey } from '../core/prune.js';
import type { KeyLastUsed } from '../core/types.js';
import { findProfilesWithKey, getConfigProfile, type IniDocument } from '../credentials/ini.js';
import { readCredentialsFile } from '../credentials/store.js';
import { ProfileError } from '../errors.js';
import { confirmAction, mfaPrompt } from '../rotation/runtime.js';
import type { Prompter, Reporter } from '../rotation/ports.js';
import { openAdminContext, type AdminContext } from '../session/account-context.js';
import { defaultProfileName } from '../session/profile-context.js';
import { resolveProfileKey } from '../session/profile-key.js';

export interface PruneOptions {
  /** Whose credentials make the calls (any kind); without `user`, also whose keys are pruned. */
  profile?: string;
  authProfile?: string;
  /** Prune this IAM user's keys (an admin's job) instead of the profile's own user. */
  user?: string;
  /** The current code of the MFA device the profile's role is assumed with (mfa_serial); asked for on a terminal otherwise. */
  mfaCode?: string;
  /** Only this key. */
  keyId?: string;
  olderThanDays?: number;
  dryRun?: boolean;
  yes?: boolean;
  env?: NodeJS.ProcessEnv;
  /** For ages; injected by tests. */
  now?: Date;
}

export interface PrunedKey {
  accessKeyId: string;
  createDate?: Date;
  lastUsed?: KeyLastUsed;
}

export interface PruneResult {
  schemaVersion: 1;
  user: { name: string; arn?: string };
  dryRun: boolean;
  /** Deleted keys; with --dry-run, the keys that would be deleted. */
  deleted: PrunedKey[];
  kept: Array<PrunedKey & { status: string; reason: KeepReason; detail: string; profiles: string[] }>;
  warnings: string[];
}

export interface PruneDeps {
  reporter: Reporter;
  prompter: Prompter;
}

/**
 * Deletes the user's retired keys: inactive, held by no profile of the credentials or config file, and
 * (with --older-than) unused for long enough. An active key is never deleted.
 */
export async function pruneKeys(options: PruneOptions, { reporter, prompter }: PruneDeps): Promise<PruneResult> {
  const env = options.env ?? process.env;
  const ctx = await openAdminContext({
    profile: options.authProfile ?? options.profile,
    env,
    mfaCode: options.mfaCode,
    mfaCodeProvider: mfaPrompt(prompter),
  });
  try {
    const [credentialsFile, configFile] = await Promise.all([readCredentialsFile(ctx.credentialsPath), readCredentialsFile(ctx.configPath)]);
    const user = await findUser(options, ctx, credentialsFile.doc, configFile.doc);
    const iam = ctx.gateway.iam(ctx.credentials);
    const keys = await iam.listAccessKeys(user.name, { lastUsed: true });
    const held: PruneKey[] = keys.map((key) => ({
      ...key,
      profiles: [
        ...findProfilesWithKey(credentialsFile.doc, key.accessKeyId),
        ...findProfilesWithKey(configFile.doc, key.accessKeyId, 'config').map((name) => `${name} (config file)`),
      ],
    }));
    const plan = planPrune(held, { olderThanDays: options.olderThanDays, keyId: options.keyId, now: options.now ?? new Date() });

    reporter.info(`${user.arn ?? user.name}: ${keys.length} access ${keys.length === 1 ? 'key' : 'keys'}`);
    for (const key of plan.remove) reporter.info(`  delete  ${maskKeyId(key.accessKeyId)}  inactive, ${describeUse(key)}`);
    for (const kept of plan.keep) reporter.info(`  keep    ${maskKeyId(kept.key.accessKeyId)}  ${kept.detail}`);

    const result: PruneResult = {
      schemaVersion: 1,
      user,
      dryRun: options.dryRun ?? false,
      deleted: plan.remove.map(toPrunedKey),
      kept: plan.keep.map(({ key, reason, detail }) => ({ ...toPrunedKey(key), status: key.status, reason, detail, profiles: key.profiles })),
      warnings: ctx.warnings,
    };
    if (plan.remove.length === 0) {
      reporter.info('Nothing to prune.');
      return result;
    }
    if (options.dryRun) return result;

    const count = plan.remove.length;
    await confirmAction(options.yes, prompter, `Delete ${count} inactive ${count === 1 ? 'key' : 'keys'} of ${user.name}? They cannot be restored.`, 'deleting');
    // Listed again right before deleting: a key reactivated meanwhile is kept.
    const now = new Map((await iam.listAccessKeys(user.name)).map((key) => [key.accessKeyId, key.status]));
    const deleted: PrunedKey[] = [];
    for (const key of plan.remove) {
      if (now.get(key.accessKeyId) !== 'Inactive') {
        reporter.warn(`${maskKeyId(key.accessKeyId)} is ${now.has(key.accessKeyId) ? 'active again' : 'gone already'}: not deleted.`);
        continue;
      }
      await iam.deleteAccessKey(user.name, key.accessKeyId);
      reporter.step({ step: 'prune', status: 'done', detail: `deleted ${maskKeyId(key.accessKeyId)}` });
      deleted.push(toPrunedKey(key));
    }
    return { ...result, deleted };
  } finally {
    ctx.gateway.destroy();
  }
}

/** --user; else the user of the profile (identified with its own key when another profile makes the calls). */
async function findUser(options: PruneOptions, ctx: AdminContext, credentials: IniDocument, config: IniDocument): Promise<{ name: string; arn?: string }> {
  if (options.user !== undefined) return { name: options.user };
  if (options.authProfile === undefined) return identifyUser(ctx.gateway.getCallerIdentity(ctx.credentials), ctx.adminProfile);
  const profile = options.profile ?? defaultProfileName(ctx.env);
  const key = resolveProfileKey({ profile, credentials, credentialsPath: ctx.credentialsPath, profileConfig: getConfigProfile(config, profile), configPath: ctx.configPath });
  return identifyUser(ctx.gateway.getCallerIdentity({ accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey }), profile);
}

async function identifyUser(identity: Promise<{ arn: string }>, profile: string): Promise<{ name: string; arn: string }> {
  const { arn } = await identity;
  const principal = parsePrincipalArn(arn);
  if (principal?.kind !== 'user' || !principal.userName) {
    throw new ProfileError('NOT_AN_IAM_USER', `Profile ${profile} signs as ${arn}, not as an IAM user, so it has no keys of its own to prune.`, {
      hint: "Name the IAM user whose keys to prune: aws-rekey prune --user NAME (with this profile's permissions).",
    });
  }
  return { name: principal.userName, arn };
}

function toPrunedKey(key: PruneKey): PrunedKey {
  return { accessKeyId: key.accessKeyId, ...(key.createDate ? { createDate: key.createDate } : {}), ...(key.lastUsed ? { lastUsed: key.lastUsed } : {}) };
}

function describeUse(key: PruneKey): string {
  const created = key.createDate ? `created ${key.createDate.toISOString().slice(0, 10)}` : 'creation date unknown';
  const used = key.lastUsed?.date;
  if (!used) return `${created}, never used`;
  const where = [key.lastUsed?.serviceName, key.lastUsed?.region].filter((part) => part && part !== 'N/A').join(', ');
  return `${created}, last used ${used.toISOString().slice(0, 16).replace('T', ' ')} UTC${where ? ` (${where})` : ''}`;
}
