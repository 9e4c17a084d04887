import { auditAccount } from '../flows/audit.js';
import type { AuditIamApi } from '../aws/audit-api.js';
import type { OrgIamApi } from '../aws/org-iam.js';
import type { AuditKeyRecord } from '../core/audit.js';
import { decideUser, needsInspection, worthListing, type OrgKey, type OrgUserState, type UserDecision } from '../core/org-decision.js';
import type { OrgPolicy } from '../core/org-policy.js';
import { AwsError } from '../errors.js';
import { mapBounded } from '../core/map-bounded.js';

/** The IAM reads of one account. */
export interface AccountReadApi {
  audit: AuditIamApi;
  tags: Pick<OrgIamApi, 'listUserTags' | 'groupMembers'>;
}

export interface AssessOptions {
  policy: OrgPolicy;
  now: Date;
  /** Users are taken in name order; start after this one (a continuation). */
  startAfter?: string;
  /** Parallel per-user calls (IAM throttles per account). Default 8. */
  concurrency?: number;
  /** Asked before each user: true means stop here and hand the rest to a continuation. */
  outOfTime?: () => boolean;
  /**
   * Users the credential report decides alone have no key ids and no owner there. `listed`: read the keys and
   * tags (ListAccessKeys, ListUserTags; last use stays the report's) of those a person should see (worthListing);
   * `all`: of every user; absent: of none (the Lambda worker, which only acts and tells owners of what is due).
   */
  identify?: 'listed' | 'all';
}

export interface AccountAssessment {
  /** Where the keys came from: the credential report, or per-user calls when the report was unavailable. */
  source: 'credential-report' | 'api';
  /** Users with at least one key, in name order, each with the decision for each key. */
  users: UserDecision[];
  /** Users whose keys and tags were read one by one because the report alone could not decide. */
  inspected: number;
  /** Users the report decided alone whose key ids and tags were read for the listing (`identify`). */
  identified: number;
  /** Set when time ran out: the last user fully assessed; a continuation starts after it. */
  continueAfter?: string;
  warnings: string[];
}

/**
 * Every key of an account against the policy. The credential report comes first (a few requests for any number
 * of users); users whose report row shows something due, or something the report cannot tell (which key is the
 * replacement, who deactivated an inactive key, exemptions), get their keys, last use and tags read one by one.
 */
export async function assessAccount(api: AccountReadApi, options: AssessOptions): Promise<AccountAssessment> {
  const { policy, now } = options;
  const audit = await auditAccount({ source: 'auto', now }, { api: api.audit });
  const byUser = new Map<string, AuditKeyRecord[]>();
  for (const key of audit.keys) {
    if (key.root || !key.createDate) continue;
    const list = byUser.get(key.userName) ?? [];
    list.push(key);
    byUser.set(key.userName, list);
  }
  const names = [...byUser.keys()].filter((name) => options.startAfter === undefined || name > options.startAfter).sort();

  const groupMembers = new Map<string, Set<string>>();
  const warnings = [...audit.warnings];
  for (const group of policy.exemptGroups) {
    const members = await api.tags.groupMembers(group);
    if (members === undefined) warnings.push(`The exempt group ${group} does not exist in this account.`);
    groupMembers.set(group, new Set(members ?? []));
  }
  const groupsOf = (userName: string) => policy.exemptGroups.filter((g) => groupMembers.get(g)?.has(userName));

  let inspected = 0;
  let identified = 0;
  let stoppedAt: number | undefined;
  const decisions = await mapBounded(names, options.concurrency ?? 8, async (userName, index) => {
    if (stoppedAt !== undefined || options.outOfTime?.()) {
      stoppedAt = Math.min(stoppedAt ?? index, index);
      return undefined;
    }
    const records = byUser.get(userName) ?? [];
    const fromReport: OrgUserState = { userName, arn: records[0]?.userArn, keys: records.map(toOrgKey), tags: {}, groups: groupsOf(userName) };
    const first = decideUser(fromReport, now, policy);
    if (!needsInspection(first)) {
      if (options.identify === undefined || (options.identify === 'listed' && !worthListing(first))) return first;
      const state = await identifyUser(api, fromReport, records);
      if (state === undefined) return undefined;
      const decision = decideUser(state, now, policy);
      // The tags can change the decision (a stopped rotation, say): then the keys' last use is read as well.
      if (!needsInspection(decision)) {
        identified += 1;
        return decision;
      }
    }
    inspected += 1;
    const state = await inspectUser(api, userName, records[0]?.userArn, groupsOf(userName));
    return state ? decideUser(state, now, policy) : undefined;
  });

  const users: UserDecision[] = [];
  let continueAfter: string | undefined;
  for (const [index, decision] of decisions.entries()) {
    if (stoppedAt !== undefined && index >= stoppedAt) {
      continueAfter = index > 0 ? names[index - 1] : options.startAfter;
      break;
    }
    if (decision && decision.keys.length > 0) users.push(decision);
  }
  return {
    source: audit.source,
    users,
    inspected,
    identified,
    ...(stoppedAt !== undefined ? { continueAfter: continueAfter ?? '' } : {}),
    warnings,
  };
}

/** The user's keys with their last use, and tags, read now; undefined when the user is gone. */
export async function inspectUser(api: AccountReadApi, userName: string, arn: string | undefined, groups: string[]): Promise<OrgUserState | undefined> {
  try {
    const listed = await api.audit.listAccessKeys(userName);
    const keys: OrgKey[] = [];
    for (const key of listed) {
      const used = await api.audit.getAccessKeyLastUsed(key.accessKeyId, userName);
      keys.push({
        accessKeyId: key.accessKeyId,
        active: key.status === 'Active',
        createDate: key.createDate ?? new Date(0),
        ...(used.date ? { lastUsedDate: used.date } : {}),
      });
    }
    const tags = await api.tags.listUserTags(userName);
    return { userName, ...(arn ? { arn } : {}), keys, tags, groups };
  } catch (error) {
    if (error instanceof AwsError && error.code === 'NO_SUCH_ENTITY') return undefined;
    throw error;
  }
}

/**
 * The user's key ids and tags for a listing, two requests whatever the number of keys: each key listed by IAM
 * takes its last use from the report row with the same creation date (the report's `last_rotated`, to the
 * second). A key without exactly one such row gets GetAccessKeyLastUsed. Undefined when the user is gone.
 */
async function identifyUser(api: AccountReadApi, fromReport: OrgUserState, records: AuditKeyRecord[]): Promise<OrgUserState | undefined> {
  const { userName } = fromReport;
  try {
    const [listed, tags] = await Promise.all([api.audit.listAccessKeys(userName), api.tags.listUserTags(userName)]);
    const second = (date: Date | undefined) => (date ? Math.floor(date.getTime() / 1000) : Number.NaN);
    const keys: OrgKey[] = [];
    for (const key of listed) {
      const rows = records.filter((r) => second(r.createDate) === second(key.createDate));
      const lastUsedDate = rows.length === 1 ? rows[0]?.lastUsedDate : (await api.audit.getAccessKeyLastUsed(key.accessKeyId, userName)).date;
      keys.push({ accessKeyId: key.accessKeyId, active: key.status === 'Active', createDate: key.createDate ?? new Date(0), ...(lastUsedDate ? { lastUsedDate } : {}) });
    }
    return { ...fromReport, keys, tags };
  } catch (error) {
    if (error instanceof AwsError && error.code === 'NO_SUCH_ENTITY') return undefined;
    throw error;
  }
}

function toOrgKey(record: AuditKeyRecord): OrgKey {
  return {
    ...(record.accessKeyId ? { accessKeyId: record.accessKeyId } : {}),
    active: record.active,
    createDate: record.createDate ?? new Date(0),
    ...(record.lastUsedDate ? { lastUsedDate: record.lastUsedDate } : {}),
  };
}
