import type { OrganizationsApi } from '../aws/organizations.js';
import type { QueueApi } from '../aws/queue.js';
import { policyNeedsParents, selectAccount, type OrgAccount } from '../core/org-policy.js';
import { RekeyError } from '../errors.js';
import { mapBounded } from '../core/map-bounded.js';
import type { OrgSettings } from './config.js';
import type { OrgLogger } from './log.js';
import type { AccountMessage } from './messages.js';

export interface PlanRunDeps {
  organizations: OrganizationsApi;
  queue: QueueApi;
  settings: OrgSettings;
  log: OrgLogger;
  runId: string;
}

export interface PlanRunResult {
  runId: string;
  queued: Array<{ id: string; name?: string }>;
  skipped: Array<{ id: string; name?: string; reason: string }>;
}

/** The scheduled start of a run: the organisation's active accounts, filtered, one queue message each. */
export async function planRun(deps: PlanRunDeps): Promise<PlanRunResult> {
  const { settings, log } = deps;
  if (!settings.queueUrl) {
    throw new RekeyError('ORG_SETTINGS_INVALID', 'The planner has no queue: AWS_REKEY_QUEUE_URL is not set.', { hint: 'Set it to the URL of the accounts queue.' });
  }
  const accounts = await selectedAccounts(deps.organizations, settings);
  const queued = accounts.filter((a) => a.selected).map(({ account }) => account);
  const skipped = accounts.flatMap(({ account, selected, reason }) => (selected ? [] : [{ id: account.id, ...(account.name ? { name: account.name } : {}), reason: reason ?? '' }]));
  const messages = queued.map((account): AccountMessage => ({ schemaVersion: 1, runId: deps.runId, accountId: account.id, ...(account.name ? { accountName: account.name } : {}) }));
  await deps.queue.sendAll(settings.queueUrl, messages.map((m) => JSON.stringify(m)));
  for (const s of skipped) log.info('account-skipped', { runId: deps.runId, accountId: s.id, reason: s.reason });
  log.info('run-planned', { runId: deps.runId, mode: settings.policy.mode, queued: queued.length, skipped: skipped.length });
  return { runId: deps.runId, queued: queued.map((a) => ({ id: a.id, ...(a.name ? { name: a.name } : {}) })), skipped };
}

/** Every account with whether the policy covers it; the OU path is read only when the policy names OUs. */
export async function selectedAccounts(organizations: OrganizationsApi, settings: Pick<OrgSettings, 'policy'>) {
  const accounts = await organizations.listAccounts();
  const withParents: OrgAccount[] = policyNeedsParents(settings.policy)
    ? await mapBounded(accounts, 4, async (a) => (a.status === 'ACTIVE' ? { ...a, parents: await organizations.parentsOf(a.id) } : a))
    : accounts;
  return withParents
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((account) => {
      const selection = selectAccount(account, settings.policy);
      return { account, selected: selection.selected, reason: selection.selected ? undefined : selection.reason };
    });
}
