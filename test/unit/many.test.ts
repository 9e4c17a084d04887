import { describe, expect, it } from 'vitest';
import { chainByUser, groupProfilesByKey, skippedProfiles, staticKeyProfiles, worstExitCode } from '../../src/core/many.js';
import { parseIni } from '../../src/credentials/ini.js';
import { mapBounded } from '../../src/core/map-bounded.js';
import { createMutex } from '../../src/rotation/runtime.js';

const FILE = `# keys
[a]
aws_access_key_id = AKIAAAAAAAAAAAAAAAA1
aws_secret_access_key = sa

[shares-a]
aws_access_key_id = AKIAAAAAAAAAAAAAAAA1
aws_secret_access_key = sa

[b]
aws_access_key_id = AKIABBBBBBBBBBBBBBB2
aws_secret_access_key = sb

[session]
aws_access_key_id = AKIASSSSSSSSSSSSSSS3
aws_secret_access_key = ss
aws_session_token = token

[asia]
aws_access_key_id = ASIAAAAAAAAAAAAAAAA4
aws_secret_access_key = sx

[half]
aws_access_key_id = AKIAHHHHHHHHHHHHHHH5

[settings-only]
region = eu-west-1
`;

describe('staticKeyProfiles', () => {
  it('lists profiles with a long-lived key pair, not sessions, ASIA keys or incomplete ones', () => {
    expect(staticKeyProfiles(parseIni(FILE))).toEqual(['a', 'shares-a', 'b']);
  });
});

describe('skippedProfiles: what --all leaves alone, and why', () => {
  it('every profile of the credentials file that holds no long-lived pair, with the reason', () => {
    const doc = parseIni(`${FILE}
[no-id]
aws_secret_access_key = s

[blank-id]
aws_access_key_id =   
aws_secret_access_key = s

[blank-secret]
aws_access_key_id = AKIAIIIIIIIIIIIIIII6
aws_secret_access_key =   

[legacy-token]
aws_access_key_id = AKIALLLLLLLLLLLLLLL7
aws_secret_access_key = sl
aws_security_token = token
`);
    expect(skippedProfiles(doc)).toEqual([
      { profile: 'session', reason: 'temporary credentials (a session token)' },
      { profile: 'asia', reason: 'temporary credentials (an ASIA… key)' },
      { profile: 'half', reason: 'no aws_secret_access_key' },
      { profile: 'settings-only', reason: 'no access key' },
      { profile: 'no-id', reason: 'no aws_access_key_id' },
      { profile: 'blank-id', reason: 'no aws_access_key_id' },
      { profile: 'blank-secret', reason: 'no aws_secret_access_key' },
      { profile: 'legacy-token', reason: 'temporary credentials (a session token)' },
    ]);
  });

  it('an ASIA key id with spaces around is still a session key', () => {
    expect(skippedProfiles(parseIni('[s]\naws_access_key_id =  ASIAAAAAAAAAAAAAAAA4 \naws_secret_access_key = x\n'))).toEqual([{ profile: 's', reason: 'temporary credentials (an ASIA… key)' }]);
  });
});

describe('the config file: profiles whose keys are there', () => {
  const credentials = parseIni('[a]\naws_access_key_id = AKIAAAAAAAAAAAAAAAA1\naws_secret_access_key = sa\n[region-only]\nregion = eu-west-1\n');
  const config = parseIni(
    [
      '[profile a]',
      'region = eu-west-1',
      '[profile region-only]',
      'aws_access_key_id = AKIACCCCCCCCCCCCCCC3',
      'aws_secret_access_key = sc',
      '[profile in-config]',
      'aws_access_key_id = AKIAAAAAAAAAAAAAAAA1',
      'aws_secret_access_key = sa',
      '[profile role]',
      'role_arn = arn:aws:iam::123456789012:role/r',
      'source_profile = a',
      '[profile sso-session]',
      'aws_session_token = t',
      '',
    ].join('\n'),
    'the config file',
  );

  it('--all finds them after the credentials file\'s, once each; role and settings-only profiles are not candidates', () => {
    expect(staticKeyProfiles(credentials, config)).toEqual(['a', 'region-only', 'in-config']);
    expect(skippedProfiles(credentials, config)).toEqual([{ profile: 'sso-session', reason: 'temporary credentials (a session token)' }]);
  });

  it('without the config file, only the credentials file counts', () => {
    expect(staticKeyProfiles(credentials)).toEqual(['a']);
    expect(skippedProfiles(credentials)).toEqual([{ profile: 'region-only', reason: 'no access key' }]);
  });

  it('profiles sharing a key across the two files make one group; a name given twice counts once', () => {
    expect(groupProfilesByKey(credentials, ['a', 'in-config', 'region-only', 'a'], config)).toEqual([
      { accessKeyId: 'AKIAAAAAAAAAAAAAAAA1', profiles: ['a', 'in-config'] },
      { accessKeyId: 'AKIACCCCCCCCCCCCCCC3', profiles: ['region-only'] },
    ]);
  });
});

describe('groupProfilesByKey', () => {
  const doc = parseIni(FILE);
  it('profiles sharing a key make one group', () => {
    expect(groupProfilesByKey(doc, ['a', 'b', 'shares-a'])).toEqual([
      { accessKeyId: 'AKIAAAAAAAAAAAAAAAA1', profiles: ['a', 'shares-a'] },
      { accessKeyId: 'AKIABBBBBBBBBBBBBBB2', profiles: ['b'] },
    ]);
  });
  it('a profile without a key is a group of its own (its rotation reports why)', () => {
    expect(groupProfilesByKey(doc, ['missing', 'settings-only', 'b'])).toEqual([
      { profiles: ['missing'] },
      { profiles: ['settings-only'] },
      { accessKeyId: 'AKIABBBBBBBBBBBBBBB2', profiles: ['b'] },
    ]);
  });
});

describe('chainByUser', () => {
  it('puts items of one user in one chain, in order; unknown users alone', () => {
    const items = [
      { id: 1, user: 'u1' },
      { id: 2, user: 'u2' },
      { id: 3, user: 'u1' },
      { id: 4, user: undefined },
      { id: 5, user: undefined },
    ];
    expect(chainByUser(items, (i) => i.user).map((chain) => chain.map((i) => i.id))).toEqual([[1, 3], [2], [4], [5]]);
  });
});

describe('worstExitCode', () => {
  const cases: Array<[number[], number]> = [
    [[0, 0], 0],
    [[0, 1], 1],
    [[0, 2], 1],
    [[1, 3, 0], 3],
    [[3, 130], 130],
    [[], 0],
  ];
  for (const [codes, expected] of cases) it(`${JSON.stringify(codes)} → ${expected}`, () => expect(worstExitCode(codes)).toBe(expected));
});

describe('createMutex', () => {
  it('runs edits one at a time, in call order, also after a failure', async () => {
    const serialize = createMutex();
    const events: string[] = [];
    const task = (name: string, ms: number, fail = false) =>
      serialize(async () => {
        events.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, ms));
        events.push(`end ${name}`);
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([task('a', 20), task('b', 1, true), task('c', 5)]);
    expect(events).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });
});

describe('mapBounded', () => {
  it('never runs more than the limit at once and keeps the order of results', async () => {
    let running = 0;
    let peak = 0;
    const results = await mapBounded([30, 10, 20, 5, 15], 2, async (ms, i) => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, ms));
      running -= 1;
      return i;
    });
    expect(results).toEqual([0, 1, 2, 3, 4]);
    expect(peak).toBe(2);
  });
});
