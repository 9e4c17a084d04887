import { randomUUID } from 'node:crypto';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SNSClient } from '@aws-sdk/client-sns';
import { BULK_CLIENT_OPTIONS } from '../aws/clients.js';
import { createAwsGateway } from '../aws/gateway.js';
import { createMailApi } from '../aws/mail.js';
import { createOrganizationsApi } from '../aws/organizations.js';
import { createTopicApi } from '../aws/topic.js';
import { parsePrincipalArn } from '../core/arn.js';
import { mapBounded } from '../core/map-bounded.js';
import { emptyTally, tallyDecisions, worthListing, type DecisionTally, type UserDecision } from '../core/org-decision.js';
import { resolveOrgPolicy, type OrgMode, type OrgPolicy, type OrgPolicyInput } from '../core/org-policy.js';
import { UsageError, isRekeyError } from '../errors.js';
import type { OrgSettings } from '../org/config.js';
import { silentLogger } from '../org/log.js';
import { selectedAccounts } from '../org/planner.js';
import { openAccount } from '../org/runtime.js';
import { processAccount, type AccountOutcome } from '../org/worker.js';
import type { VerifyOptions } from '../rotation/verify.js';
import { openAccountContext, type AccountContext } from '../session/account-context.js';
import type { MfaCodeOptions } from '../session/profile-credentials.js';

export interface OrgRunOptions extends MfaCodeOptions {
  profile?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * Calls AWS as this caller instead of opening `profile` (which then only names it): the CLI opens it once for
   * the plan and the run, so that a role assumed with an MFA code is assumed once. The caller destroys it.
   */
  context?: AccountContext;
  /** The role to assume in each account of the organisation; without it, only the current account. */
  role?: string;
  /** The policy; `mode` report unless given. */
  policy?: OrgPolicyInput;
  /** notify: the SNS topic for the decision events, and the SES sender of the owners' mails. */
  topicArn?: string;
  mailFrom?: string;
  /** Accounts at once (default 4). */
  concurrency?: number;
  /** "Now" for key ages (tests only: no IAM implementation lets a test backdate a key). */
  now?: Date;
  /** enforce: how new keys are verified (default: three successes in a row). */
  verify?: VerifyOptions;
  /**
   * List every user with keys, each key with its id and owner (two requests per user the credential report
   * decides alone). By default only the users a person should see are listed (something due, coming, found or
   * exempt), with their key ids and owners; the others are counted.
   */
  listAll?: boolean;
  /** notify, enforce: decide as the run would, and change and send nothing (the plan). */
  dryRun?: boolean;
}

export interface OrgAccountResult {
  id: string;
  name?: string;
  selected: boolean;
  /** Why the account was left out. */
  skipped?: string;
  source?: 'credential-report' | 'api';
  /** The users listed: those worth a person's attention (worthListing), or every one with `listAll`. */
  users?: UserDecision[];
  /** Users with keys that need nothing now, not listed (without `listAll`). */
  unlisted?: number;
  inspected?: number;
  identified?: number;
  events?: number;
  mails?: number;
  /** enforce: what was done. */
  done?: AccountOutcome['done'];
  warnings?: string[];
  /** The account could not be processed (the role could not be assumed, a call was denied…). */
  error?: { code: string; message: string; hint?: string };
}

export interface OrgRunResult {
  schemaVersion: 1;
  mode: OrgMode;
  /** The run only decided (its plan): nothing was changed or sent. */
  dryRun: boolean;
  policy: OrgPolicy;
  now: Date;
  /** Whose credentials listed the organisation (or read the current account). */
  credentialSource: string;
  scope: 'organization' | 'account';
  accounts: OrgAccountResult[];
  /** Counts over every user with keys, listed or not. */
  summary: OrgSummary;
}

export interface OrgSummary extends DecisionTally {
  accounts: number;
  failedAccounts: number;
  /** Keys of users that need nothing now and are not listed (see OrgRunOptions.listAll). */
  unlistedKeys: number;
}

/**
 * The organisation engine from a workstation: every selected account of the organisation (through `role`), or
 * just the current account, assessed against the policy; in notify mode, the events and owner mails too.
 */
export async function runOrg(options: OrgRunOptions = {}): Promise<OrgRunResult> {
  const policy = checkOrgRun(options);
  const ctx = options.context ?? (await openOrgContext(options));
  try {
    const caller = await createAwsGateway(ctx.factory).getCallerIdentity(ctx.credentials);
    const settings: OrgSettings = {
      // A dry run decides exactly as the run would, in the mode that changes and sends nothing.
      policy: options.dryRun ? { ...policy, mode: 'report' } : policy,
      memberRoleName: options.role ?? 'none',
      partition: parsePrincipalArn(caller.arn)?.partition ?? 'aws',
      ...(options.topicArn ? { topicArn: options.topicArn } : {}),
      ...(options.mailFrom ? { mailFrom: options.mailFrom } : {}),
    };
    let listed: Array<{ id: string; name?: string; selected: boolean; skipped?: string }>;
    if (options.role === undefined) {
      listed = [{ id: caller.account, selected: true }];
    } else {
      const organizations = createOrganizationsApi(new OrganizationsClient(ctx.factory.clientConfig('ORGANIZATIONS', ctx.credentials, BULK_CLIENT_OPTIONS)));
      listed = (await selectedAccounts(organizations, settings)).map(({ account, selected, reason }) => ({
        id: account.id,
        ...(account.name ? { name: account.name } : {}),
        selected,
        ...(reason ? { skipped: reason } : {}),
      }));
    }
    const topic = options.topicArn && !options.dryRun ? createTopicApi(new SNSClient(ctx.factory.clientConfig('SNS', ctx.credentials))) : undefined;
    const mail = options.mailFrom && !options.dryRun ? createMailApi(new SESv2Client(ctx.factory.clientConfig('SESV2', ctx.credentials))) : undefined;
    const now = options.now ?? new Date();
    const runId = randomUUID();
    const everyUser = new Map<string, UserDecision[]>();
    const accounts = await mapBounded(listed, options.concurrency ?? 4, async (account): Promise<OrgAccountResult> => {
      if (!account.selected) return account;
      try {
        const outcome = await processAccount(
          { schemaVersion: 1, runId, accountId: account.id },
          {
            settings,
            openAccount: (id) => openAccount(ctx.factory, ctx.credentials, settings, id, id === caller.account ? { callerArn: principalArnOf(caller.arn) } : false),
            ...(topic ? { topic } : {}),
            ...(mail ? { mail } : {}),
            log: silentLogger,
            now: () => now,
            ...(options.verify ? { verify: options.verify } : {}),
            identify: options.listAll ? 'all' : 'listed',
          },
        );
        const { source, inspected, identified, events, mails, warnings, done } = outcome;
        everyUser.set(account.id, outcome.users);
        const users = options.listAll ? outcome.users : outcome.users.filter(worthListing);
        return { ...account, source, users, unlisted: outcome.users.length - users.length, inspected, identified, events, mails, done, warnings };
      } catch (error) {
        if (!isRekeyError(error)) throw error;
        return { ...account, error: { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) } };
      }
    });
    return {
      schemaVersion: 1,
      mode: policy.mode,
      dryRun: options.dryRun ?? false,
      policy,
      now,
      credentialSource: ctx.credentialSource,
      scope: options.role === undefined ? 'account' : 'organization',
      accounts,
      summary: summarize(accounts, everyUser),
    };
  } finally {
    if (!options.context) ctx.destroy();
  }
}

/** The options' policy, once they are known to make sense: a usage error comes before any credentials are asked for. */
export function checkOrgRun(options: OrgRunOptions): OrgPolicy {
  const policy = resolveOrgPolicy(options.policy ?? {});
  if (options.role !== undefined && !/^[\w+=,.@-]{1,64}$/.test(options.role)) {
    throw new UsageError(`--role '${options.role}' is not an IAM role name.`, 'Give the name of the role in each account (the same in all), without a path or ARN.');
  }
  if (policy.digest !== 'off' && !options.mailFrom) {
    throw new UsageError(`--digest ${policy.digest} sends mail: add --mail-from ADDRESS (a verified SES identity).`, 'Or leave out --digest.');
  }
  if (policy.mode === 'notify' && !options.topicArn && !options.mailFrom) {
    throw new UsageError('--mode notify needs somewhere to send: --topic-arn, --mail-from, or both.', 'Or run aws-rekey org report to only look.');
  }
  return policy;
}

/** The caller of `runOrg`: the profile's credentials (a role assumed with the MFA code, when its profile has mfa_serial). */
export function openOrgContext(options: Pick<OrgRunOptions, 'profile' | 'env' | 'mfaCode' | 'mfaCodeProvider'>): Promise<AccountContext> {
  return openAccountContext({
    profile: options.profile,
    env: options.env,
    mfaCode: options.mfaCode,
    mfaCodeProvider: options.mfaCodeProvider,
    defaultMaxAttempts: BULK_CLIENT_OPTIONS.maxAttempts,
  });
}

/** What `aws:PrincipalArn` says for a caller: an assumed-role session is its role. */
function principalArnOf(arn: string): string {
  const match = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\//.exec(arn);
  return match ? `arn:${match[1]}:iam::${match[2]}:role/${match[3]}` : arn;
}

/** `everyUser`: by account id, every user with keys (the accounts list only some); an account without an entry counts its listed users. */
export function summarize(accounts: OrgAccountResult[], everyUser: ReadonlyMap<string, UserDecision[]> = new Map()): OrgSummary {
  const tally = emptyTally();
  let unlistedKeys = 0;
  for (const account of accounts) {
    const users = everyUser.get(account.id) ?? account.users ?? [];
    tallyDecisions(users, tally);
    const listedUsers = new Set(account.users ?? []);
    for (const user of users) if (!listedUsers.has(user)) unlistedKeys += user.keys.length;
  }
  return { accounts: accounts.filter((a) => a.selected).length, failedAccounts: accounts.filter((a) => a.error).length, ...tally, unlistedKeys };
}
