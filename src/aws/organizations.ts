import { ListAccountsCommand, ListParentsCommand, type OrganizationsClient } from '@aws-sdk/client-organizations';
import type { OrgAccount } from '../core/org-policy.js';
import { mapAwsError } from './errors.js';

/** The organisation's accounts, from the management or a delegated-administrator account. */
export interface OrganizationsApi {
  /** Every account (all pages of ListAccounts). */
  listAccounts(): Promise<OrgAccount[]>;
  /** The OUs above an account up to the root, nearest first (ListParents, one call a level). */
  parentsOf(accountId: string): Promise<string[]>;
}

export function createOrganizationsApi(client: OrganizationsClient): OrganizationsApi {
  return {
    async listAccounts() {
      const out: OrgAccount[] = [];
      let token: string | undefined;
      do {
        try {
          const page = await client.send(new ListAccountsCommand({ ...(token ? { NextToken: token } : {}) }));
          for (const a of page.Accounts ?? []) {
            if (a.Id) out.push({ id: a.Id, ...(a.Name ? { name: a.Name } : {}), ...(a.Status ? { status: a.Status } : {}) });
          }
          token = page.NextToken;
        } catch (error) {
          throw mapAwsError(error, 'organizations:ListAccounts');
        }
      } while (token);
      return out;
    },
    async parentsOf(accountId) {
      const chain: string[] = [];
      let child = accountId;
      // An OU tree is at most five levels deep; the bound guards against a loop in a broken answer.
      for (let depth = 0; depth < 8; depth++) {
        let parent;
        try {
          parent = (await client.send(new ListParentsCommand({ ChildId: child }))).Parents?.[0];
        } catch (error) {
          throw mapAwsError(error, 'organizations:ListParents', `account ${accountId}`);
        }
        if (!parent?.Id) break;
        chain.push(parent.Id);
        if (parent.Type === 'ROOT') break;
        child = parent.Id;
      }
      return chain;
    },
  };
}
