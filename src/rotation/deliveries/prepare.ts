import { lstat, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { DestinationSpec } from '../../core/admin.js';
import { maskKeyId } from '../../core/mask.js';
import { findProfilesWithKey, getProfile } from '../../credentials/ini.js';
import type { Destination } from '../../credentials/staged-store.js';
import { checkWritable, readCredentialsFile } from '../../credentials/store.js';
import { UsageError } from '../../errors.js';

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
      await checkWritable(path);
      return { destination: { kind: 'file', path, format: spec.format, section: ctx.userName } };
    }
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
 * `--out LINK --force` writes through the link (like the credentials file) only when whoever made the link
 * also owns what it points to: else a link planted by another user would hand their pick of file to root.
 */
async function refuseForeignLinkTarget(given: string, path: string, linkUid: number): Promise<void> {
  const target = await stat(path).catch(() => undefined);
  if (target?.isFile() && target.uid === linkUid) return;
  const what = target ? `${given} is a symbolic link to a file of uid ${target.uid}, but the link belongs to uid ${linkUid}` : `${given} is a symbolic link to nothing (a dangling link)`;
  throw new UsageError(
    `${what}; aws-rekey does not write through it, even with --force.`,
    `Name the target itself with --out, or remove the link (rm '${given}'). See docs/security.md.`,
    'OUTPUT_LINK_REFUSED',
  );
}
