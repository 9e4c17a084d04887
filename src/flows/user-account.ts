import { parsePrincipalArn } from '../core/arn.js';
import type { CallerIdentity } from '../core/types.js';
import { sameNameElsewhere } from '../credentials/staged-store.js';
import { describeAccount, type UserRef } from '../credentials/user-journal.js';
import { UsageError } from '../errors.js';
import type { AdminContext } from '../session/account-context.js';

/*
 * `--user NAME` names a user in the account the admin's credentials reach (a role profile may reach
 * another one). Records of such rotations are kept by partition, account and name, so that a run in one
 * account never resumes or undoes a rotation recorded in another.
 */

export interface UserCaller {
  identity: CallerIdentity;
  /** The user NAME in the caller's account. */
  ref: UserRef;
}

/** Who the admin's credentials are, and so which account's NAME this run is about (sts:GetCallerIdentity). */
export async function identifyCaller(ctx: AdminContext, userName: string): Promise<UserCaller> {
  const identity = await ctx.gateway.getCallerIdentity(ctx.credentials);
  const partition = parsePrincipalArn(identity.arn)?.partition ?? 'aws';
  return { identity, ref: { partition, account: identity.account, userName } };
}

/** A note for a run that starts its own rotation while one of the same name is recorded in another account. */
export async function elsewhereWarning(credentialsPath: string, ref: UserRef): Promise<string | undefined> {
  const others = await sameNameElsewhere(credentialsPath, ref);
  if (others.length === 0) return undefined;
  return `A rotation of a user named ${ref.userName} in ${others.map(describeAccount).join(', ')} is recorded beside ${credentialsPath}; this run is for ${describeAccount(ref)} and leaves it alone. Finish it with a profile of that account.`;
}

/** No record of NAME in the caller's account, but one in another: refused, naming both accounts. */
export async function refuseOtherAccount(credentialsPath: string, ref: UserRef, what: string): Promise<void> {
  const others = await sameNameElsewhere(credentialsPath, ref);
  if (others.length === 0) return;
  throw new UsageError(
    `The ${what} of user ${ref.userName} is recorded for ${others.map(describeAccount).join(', ')}, but these credentials are of ${describeAccount(ref)}; aws-rekey does not ${what === 'staged rotation' ? 'continue or undo' : 'finish or undo'} it from another account. Nothing was changed.`,
    `Run it with a profile whose credentials are of ${others.map(describeAccount).join(' or ')} (--profile NAME); 'aws-rekey status' shows each rotation's account.`,
    'RECORD_OF_ANOTHER_ACCOUNT',
  );
}
