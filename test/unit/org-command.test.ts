import { describe, expect, it } from 'vitest';
import { confirmQuestion, summaryText } from '../../src/cli/commands/org.js';
import type { OrgRunResult } from '../../src/flows/org.js';

describe('org run: the question on a terminal', () => {
  it.each([
    [{ rotate: 3, deactivate: 1, delete: 0 }, 'Rotate 3 keys, deactivate 1 key and delete 0 keys as above, and send the events and mails?'],
    [{ rotate: 1, deactivate: 0, delete: 2 }, 'Rotate 1 key, deactivate 0 keys and delete 2 keys as above, and send the events and mails?'],
  ])('enforce counts each action in the right number: %o', (due, question) => {
    expect(confirmQuestion('enforce', due)).toBe(question);
  });

  it('notify changes no key: it asks about the events and mails only', () => {
    expect(confirmQuestion('notify', { rotate: 2, deactivate: 0, delete: 0 })).toBe('Send the events and mails for the keys above?');
  });
});

describe('org report / run: the summary below the table', () => {
  const result = (one: number, policyDays: number): OrgRunResult =>
    ({
      mode: 'report',
      dryRun: false,
      policy: { rotateAfterDays: policyDays, deactivateAfterDays: policyDays, deleteAfterDays: policyDays, warnDaysBefore: policyDays },
      summary: {
        accounts: one,
        failedAccounts: 0,
        users: one,
        keys: one,
        unlistedKeys: one,
        exemptUsers: one,
        upcoming: 0,
        due: { rotate: 0, deactivate: 0, delete: 0 },
        findings: {},
        levels: { green: one, yellow: 0, red: 0 },
      },
    }) as unknown as OrgRunResult;

  it('says each count in the right number', () => {
    expect(summaryText(result(1, 1)).split('\n')).toEqual([
      '1 account, 1 user with keys, 1 key (green 1, yellow 0, red 0); 1 exempt user.',
      'Due now: rotate 0, deactivate 0, delete 0; within 1 day: 0. Findings: none.',
      'Not listed: 1 key that needs nothing now (--all lists every key).',
      'Mode report: nothing was changed or sent. Policy: rotate at 1 day, deactivate 1 day after delivery, delete 1 day after deactivation.',
    ]);
    expect(summaryText(result(2, 90))).toMatch(/^2 accounts, 2 users with keys, 2 keys .*; 2 exempt users\.\nDue now: .*; within 90 days: 0\. .*\nNot listed: 2 keys that need nothing now .*rotate at 90 days, deactivate 90 days after delivery, delete 90 days after deactivation\.$/s);
  });
});
