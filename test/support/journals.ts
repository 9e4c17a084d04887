import type { RotationJournal } from '../../src/credentials/journal.js';

/**
 * The recovery journal of profile `profile` (alone) in `credentialsPath`, stopped after writing its new key
 * to the file; `extra` changes any field.
 */
export function journalOf(credentialsPath: string, profile = 'work', extra: Partial<RotationJournal> = {}): RotationJournal {
  return {
    version: 1,
    profile,
    profiles: [profile],
    credentialsPath,
    userName: 'alice',
    userArn: 'arn:aws:iam::123456789012:user/alice',
    oldKeyId: 'AKIAOLDOLDOLDOLDOLD1',
    keysBefore: ['AKIAOLDOLDOLDOLDOLD1'],
    retire: 'deactivate',
    phase: 'written',
    newKey: { accessKeyId: 'AKIANEWNEWNEWNEWNEW1', secretAccessKey: 'new-secret' },
    startedAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...extra,
  };
}
