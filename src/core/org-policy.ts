import { UsageError } from '../errors.js';

/**
 * The organisation engine's policy: when keys are rotated, deactivated and deleted, who is warned, and what a
 * run may change. Validated once, at start: a policy whose periods contradict each other is refused with the
 * reason, before any account is touched.
 */

/** report: nothing changes; notify: owners and the SNS topic are told what is due; enforce: it is done. */
export type OrgMode = 'report' | 'notify' | 'enforce';
export const ORG_MODES: readonly OrgMode[] = ['report', 'notify', 'enforce'];

/** Digest mails: none (one mail per user to its owner), one per owner and account, or one per account to `digestTo`. */
export type OrgDigest = 'off' | 'owner' | 'account';
export const ORG_DIGESTS: readonly OrgDigest[] = ['off', 'owner', 'account'];

export interface OrgPolicy {
  mode: OrgMode;
  /** An active key this many days old gets a replacement (CIS: 90). */
  rotateAfterDays: number;
  /** The old key is deactivated this many days after its replacement was delivered. */
  deactivateAfterDays: number;
  /** A key aws-rekey deactivated is deleted this many days after the deactivation. */
  deleteAfterDays: number;
  /** The owner is warned this many days before each action. */
  warnDaysBefore: number;
  /** An active key unused this long is reported (CIS: 45). Never acted on. */
  unusedAfterDays: number;
  /** Members of these IAM groups are exempt (by group name). */
  exemptGroups: string[];
  /** Only these accounts (ids) / organisational units (ids, `ou-…`), when given. */
  includeAccounts: string[];
  includeOus: string[];
  /** Never these accounts / OUs. */
  excludeAccounts: string[];
  excludeOus: string[];
  /** notify, enforce: `owner` groups an account's owner mails into one per owner; `account` also mails `digestTo` one summary per account. */
  digest: OrgDigest;
  /** Where the account digest goes (email addresses); only with digest `account`. */
  digestTo: string[];
}

export type OrgPolicyInput = Partial<OrgPolicy>;

export const DEFAULT_ORG_POLICY: Readonly<OrgPolicy> = Object.freeze({
  mode: 'report',
  rotateAfterDays: 90,
  deactivateAfterDays: 7,
  deleteAfterDays: 7,
  warnDaysBefore: 7,
  unusedAfterDays: 45,
  exemptGroups: [],
  includeAccounts: [],
  includeOus: [],
  excludeAccounts: [],
  excludeOus: [],
  digest: 'off',
  digestTo: [],
});

/** Longer than any key should live; a larger figure is a typo. */
const MAX_DAYS = 3650;

/** The policy could not be used: the message lists every reason at once. */
export class OrgPolicyError extends UsageError {
  readonly reasons: string[];
  constructor(reasons: string[]) {
    super(
      `The organisation policy is refused: ${reasons.join(' ')}`,
      'Fix the periods (see docs/org.md "Policy"); nothing was changed.',
      'ORG_POLICY_INVALID',
    );
    this.reasons = reasons;
  }
}

/** Defaults filled in, every field checked, contradictions refused (all reasons in one error). */
export function resolveOrgPolicy(input: OrgPolicyInput = {}): OrgPolicy {
  const policy: OrgPolicy = { ...DEFAULT_ORG_POLICY, ...stripUndefined(input) };
  const reasons: string[] = [];
  if (!ORG_MODES.includes(policy.mode)) reasons.push(`The mode '${String(policy.mode)}' is not one of ${ORG_MODES.join(', ')}.`);
  if (!ORG_DIGESTS.includes(policy.digest)) reasons.push(`The digest '${String(policy.digest)}' is not one of ${ORG_DIGESTS.join(', ')}.`);
  if (!Array.isArray(policy.digestTo) || policy.digestTo.some((a) => typeof a !== 'string' || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(a))) {
    reasons.push('digestTo must be a list of email addresses.');
  } else if (policy.digest === 'account' && policy.digestTo.length === 0) {
    reasons.push('The account digest needs an address to go to (digestTo).');
  } else if (policy.digest !== 'account' && policy.digestTo.length > 0) {
    // Never a setting that is silently ignored.
    reasons.push(`digestTo is only used by the account digest, and the digest is '${String(policy.digest)}'.`);
  }
  const periods = [
    ['rotateAfterDays', 1],
    ['deactivateAfterDays', 1],
    ['deleteAfterDays', 1],
    ['warnDaysBefore', 0],
    ['unusedAfterDays', 1],
  ] as const;
  let periodsValid = true;
  for (const [name, min] of periods) {
    const value = policy[name];
    if (!Number.isInteger(value) || value < min || value > MAX_DAYS) {
      reasons.push(`${name} must be a whole number of days from ${min} to ${MAX_DAYS} (got ${String(value)}).`);
      periodsValid = false;
    }
  }
  if (periodsValid) {
    // A warning must fall after the event that starts its period, or the owner hears of an action before the
    // thing it follows has even happened (a deactivation warned of before the replacement exists).
    if (policy.warnDaysBefore >= policy.rotateAfterDays) {
      reasons.push(`warnDaysBefore (${policy.warnDaysBefore}) must be less than rotateAfterDays (${policy.rotateAfterDays}): the warning would come before the key exists.`);
    }
    if (policy.warnDaysBefore > policy.deactivateAfterDays) {
      reasons.push(
        `warnDaysBefore (${policy.warnDaysBefore}) must not exceed deactivateAfterDays (${policy.deactivateAfterDays}): the deactivation warning would come before the replacement is delivered.`,
      );
    }
    if (policy.warnDaysBefore > policy.deleteAfterDays) {
      reasons.push(
        `warnDaysBefore (${policy.warnDaysBefore}) must not exceed deleteAfterDays (${policy.deleteAfterDays}): the deletion warning would come before the key is deactivated.`,
      );
    }
  }
  for (const name of ['exemptGroups', 'includeAccounts', 'includeOus', 'excludeAccounts', 'excludeOus'] as const) {
    if (!Array.isArray(policy[name]) || policy[name].some((v) => typeof v !== 'string' || v.trim() === '')) {
      reasons.push(`${name} must be a list of non-empty names.`);
    }
  }
  // A list that is not a list has its reason above; its characters (or a number) are not ids to check.
  const listed = (...lists: string[][]) => lists.flatMap((list) => (Array.isArray(list) ? list : []));
  for (const id of listed(policy.includeAccounts, policy.excludeAccounts)) {
    if (typeof id === 'string' && !/^\d{12}$/.test(id)) reasons.push(`'${id}' is not an account id (12 digits).`);
  }
  for (const id of listed(policy.includeOus, policy.excludeOus)) {
    if (typeof id === 'string' && !/^(ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}|r-[0-9a-z]{4,32})$/.test(id)) {
      reasons.push(`'${id}' is not an organisational unit id (ou-xxxx-xxxxxxxx) or root id (r-xxxx).`);
    }
  }
  const both = (a: string[], b: string[]) => (Array.isArray(a) && Array.isArray(b) ? a.filter((x) => b.includes(x)) : []);
  for (const id of both(policy.includeAccounts, policy.excludeAccounts)) reasons.push(`Account ${id} is both included and excluded.`);
  for (const id of both(policy.includeOus, policy.excludeOus)) reasons.push(`OU ${id} is both included and excluded.`);
  if (reasons.length > 0) throw new OrgPolicyError(reasons);
  return policy;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export interface OrgAccount {
  id: string;
  name?: string;
  status?: string;
  /** The OUs (and root) above the account, nearest first; needed only when the policy names OUs. */
  parents?: string[];
}

export type AccountSelection = { selected: true } | { selected: false; reason: string };

/** Whether a run covers the account. Excludes win over includes; the reason goes into the report. */
export function selectAccount(account: OrgAccount, policy: OrgPolicy): AccountSelection {
  if (account.status !== undefined && account.status !== 'ACTIVE') return { selected: false, reason: `account status ${account.status}` };
  if (policy.excludeAccounts.includes(account.id)) return { selected: false, reason: 'account excluded' };
  // Stryker disable next-line ArrayDeclaration: equivalent, a default holding a string that is no OU id matches no OU of a policy (resolveOrgPolicy refuses other names).
  const parents = account.parents ?? [];
  const excludedOu = policy.excludeOus.find((ou) => parents.includes(ou));
  if (excludedOu) return { selected: false, reason: `in excluded OU ${excludedOu}` };
  const anyInclude = policy.includeAccounts.length > 0 || policy.includeOus.length > 0;
  if (!anyInclude) return { selected: true };
  if (policy.includeAccounts.includes(account.id) || policy.includeOus.some((ou) => parents.includes(ou))) return { selected: true };
  return { selected: false, reason: 'not in the included accounts or OUs' };
}

/** Whether the selection needs each account's OU path (ListParents), which costs calls. */
export function policyNeedsParents(policy: OrgPolicy): boolean {
  return policy.includeOus.length > 0 || policy.excludeOus.length > 0;
}
