import { lstat, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ParametersApi } from '../../aws/parameters.js';
import type { SecretsApi } from '../../aws/secrets.js';
import type { DestinationSpec } from '../../core/destination.js';
import { maskKeyId } from '../../core/mask.js';
import { dotenvValue } from '../../credentials/dotenv.js';
import { findProfilesWithKey, getProfile } from '../../credentials/ini.js';
import { inspectOwnPath, ownerOf, resolveLinkTarget } from '../../credentials/own-files.js';
import type { Destination } from '../../credentials/staged-store.js';
import { getBackupPath } from '../../credentials/atomic-replace.js';
import { checkWritable, readCredentialsFile, resolveConfigPath, resolveCredentialsPath } from '../../credentials/store.js';
import { UsageError } from '../../errors.js';
import { ENV_KEY_ID, ENV_SECRET, readEnvFile } from './env-file.js';
import { checkCommand } from './exec-command.js';
import { notSecure } from './ssm-parameter.js';

/** The pre-flight of an admin's delivery: before the key exists, the destination is checked and recorded. */

export interface DestinationContext {
  credentialsPath: string;
  userName: string;
  /** The key being replaced: a --to-profile profile that holds it simply gets the new one. */
  oldKeyId: string;
  force: boolean;
  /** The profile whose credentials make the calls: never overwritten. */
  adminProfile?: string;
  /** Every profile those credentials come from (the admin profile and each source_profile): never written, even with --force. */
  ownChain?: string[];
  /** `--to-secret`: read before the key exists, so that a missing permission or endpoint fails first. */
  secrets?: SecretsApi;
  /** `--to-parameter`: as for secrets; a parameter that is not a SecureString is refused. */
  parameters?: ParametersApi;
  /** `--exec`: the PATH the command is looked up in. */
  env?: NodeJS.ProcessEnv;
}

export interface PreparedDestination {
  destination: Destination;
  /** The old key's secret, when the --to-profile profile held the old key (a rollback puts it back). */
  oldSecretAccessKey?: string;
}

/** Fails, saying why and what to do, if the new key could not be delivered. Nothing is created yet. */
export async function prepareDestination(spec: DestinationSpec, ctx: DestinationContext): Promise<PreparedDestination> {
  switch (spec.kind) {
    case 'stdout':
      return { destination: { kind: 'stdout' } };
    case 'file': {
      const path = resolve(spec.path);
      const existing = await lstat(path).catch(() => undefined);
      if (existing?.isDirectory()) throw new UsageError(`--out ${spec.path} is a directory.`, 'Name a file, e.g. --out bob.credentials.', 'OUTPUT_IS_DIRECTORY');
      if (existing && !ctx.force) {
        throw new UsageError(`${spec.path} already exists; aws-rekey does not overwrite it.`, 'Choose another file name, or add --force to replace it.', 'OUTPUT_EXISTS');
      }
      if (existing?.isSymbolicLink()) await refuseForeignLinkTarget(spec.path, path, existing.uid);
      await checkWritable(path, 'name another file with --out');
      return { destination: { kind: 'file', path, format: spec.format, section: ctx.userName } };
    }
    case 'secret':
      await ctx.secrets?.describe(spec.name);
      return { destination: { kind: 'secret', name: spec.name } };
    case 'parameter': {
      const current = await ctx.parameters?.get(spec.name);
      if (current && current.type !== 'SecureString') throw notSecure(spec.name, current.type);
      return { destination: { kind: 'parameter', name: spec.name, ...(spec.kmsKeyId ? { kmsKeyId: spec.kmsKeyId } : {}) } };
    }
    case 'env': {
      const { path, text } = await checkEnvFile(spec.path, ctx.env);
      const heldKey = text === undefined ? undefined : dotenvValue(text, ENV_KEY_ID)?.trim();
      if (heldKey && heldKey !== ctx.oldKeyId && !ctx.force) {
        throw new UsageError(
          `${spec.path} already holds another key in ${ENV_KEY_ID} (${maskKeyId(heldKey)}); aws-rekey does not overwrite it.`,
          'Name another file, or add --force to replace it.',
          'ENV_HAS_KEY',
        );
      }
      // The file held the old key: a rollback puts the old pair back.
      const oldSecretAccessKey = heldKey === ctx.oldKeyId && text !== undefined ? dotenvValue(text, ENV_SECRET) : undefined;
      return { destination: { kind: 'env', path }, ...(oldSecretAccessKey ? { oldSecretAccessKey } : {}) };
    }
    case 'exec':
      await checkCommand(spec.command, ctx.env);
      return { destination: { kind: 'exec', command: spec.command, timeoutMs: spec.timeoutMs } };
    case 'profile': {
      if (ctx.adminProfile !== undefined && spec.profile === ctx.adminProfile) {
        throw new UsageError(`--to-profile ${spec.profile} is the profile whose credentials make the calls; aws-rekey does not overwrite it.`, 'Name another profile.', 'TO_PROFILE_IS_ADMIN');
      }
      if (ctx.ownChain?.includes(spec.profile)) {
        throw new UsageError(
          `--to-profile ${spec.profile} is where the credentials of profile ${ctx.adminProfile ?? ctx.ownChain[0]} come from (source_profile ${ctx.ownChain.join(' → ')}); aws-rekey does not write into the run's own credentials, even with --force.`,
          'Name a profile that is not part of the admin\'s own credentials.',
          'TO_PROFILE_IS_ADMIN',
        );
      }
      await checkWritable(ctx.credentialsPath);
      const file = await readCredentialsFile(ctx.credentialsPath);
      const values = getProfile(file.doc, spec.profile);
      const heldKey = values?.aws_access_key_id?.trim();
      if (heldKey && heldKey !== ctx.oldKeyId && !ctx.force) {
        throw new UsageError(
          `Profile ${spec.profile} in ${ctx.credentialsPath} already holds another key (${maskKeyId(heldKey)}); aws-rekey does not overwrite it.`,
          'Name another profile, or add --force to replace its keys.',
          'PROFILE_HAS_KEY',
        );
      }
      const holders = findProfilesWithKey(file.doc, ctx.oldKeyId).filter((p) => p !== spec.profile);
      const oldSecretAccessKey = heldKey === ctx.oldKeyId ? values?.aws_secret_access_key?.trim() : undefined;
      return {
        destination: { kind: 'profiles', credentialsPath: ctx.credentialsPath, profiles: [spec.profile, ...holders], named: spec.profile },
        ...(oldSecretAccessKey ? { oldSecretAccessKey } : {}),
      };
    }
  }
}

/**
 * What can be checked of a destination on this machine alone: run before any AWS call, so that a file that
 * cannot be written or a command that cannot be run is refused (exit 2) before anything happens.
 */
export async function checkDestinationLocally(spec: DestinationSpec, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (spec.kind === 'env') await checkEnvFile(spec.path, env);
  if (spec.kind === 'exec') await checkCommand(spec.command, env);
}

/**
 * `--to-env FILE`: the user's own file, edited in place of the old one like the credentials file: written
 * through a link only when the link and its target have one owner; its backup (`FILE.aws-rekey.bak`) is
 * aws-rekey's own file and never a link. Returns the path and the current text (undefined: no file yet).
 */
async function checkEnvFile(given: string, env: NodeJS.ProcessEnv = process.env): Promise<{ path: string; text: string | undefined }> {
  const path = resolve(given);
  // KEY=value lines appended to an ini file would become settings of its last profile.
  const real = await resolveLinkTarget(path);
  for (const [what, file] of [['shared credentials', resolveCredentialsPath(env)], ['config', resolveConfigPath(env)]] as const) {
    if (real === (await resolveLinkTarget(file))) {
      throw new UsageError(`--to-env ${given} is the AWS ${what} file, not a dotenv file.`, 'To write the key into a profile of the credentials file, use --to-profile NAME.', 'ENV_IS_AWS_FILE');
    }
  }
  const existing = await lstat(path).catch(() => undefined);
  if (existing?.isDirectory()) throw new UsageError(`--to-env ${given} is a directory.`, 'Name a file, e.g. --to-env .env.', 'ENV_IS_DIRECTORY');
  if (existing?.isSymbolicLink()) await refuseForeignLinkTarget(given, path, existing.uid, '--to-env');
  const target = existing?.isSymbolicLink() ? await stat(path).catch(() => undefined) : existing;
  if (target && !target.isFile()) throw new UsageError(`--to-env ${given} is not a regular file.`, 'Name a dotenv file, e.g. --to-env .env.', 'ENV_NOT_A_FILE');
  await checkWritable(path, 'name another file with --to-env').catch((error: unknown) => {
    // The user's input, not the machine's state: a usage error (exit 2), whose fix is another FILE.
    throw new UsageError(`--to-env: ${(error as Error).message}`, `Name a file aws-rekey can write, e.g. --to-env ./ci.env.`, 'ENV_NOT_WRITABLE');
  });
  await inspectOwnPath(getBackupPath(path), 'file', await ownerOf(path));
  return { path, text: await readEnvFile(path) };
}

/**
 * `--out LINK --force` writes through the link (like the credentials file) only when whoever made the link
 * also owns what it points to: else a link planted by another user would hand their pick of file to root.
 */
async function refuseForeignLinkTarget(given: string, path: string, linkUid: number, flag = '--out'): Promise<void> {
  const target = await stat(path).catch(() => undefined);
  if (target?.isFile() && target.uid === linkUid) return;
  const what = target ? `${given} is a symbolic link to a file of uid ${target.uid}, but the link belongs to uid ${linkUid}` : `${given} is a symbolic link to nothing (a dangling link)`;
  throw new UsageError(
    `${what}; aws-rekey does not write through it, even with --force.`,
    `Name the target itself with ${flag}, or remove the link (rm '${given}'). See docs/security.md.`,
    'OUTPUT_LINK_REFUSED',
  );
}
