import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { replaceAccessKey } from '../../src/credentials/ini-edit.js';
import { getProfile, listProfiles, parseIni, serializeIni, type IniDocument } from '../../src/credentials/ini.js';
import { awsCli } from '../support/aws-cli.js';
import { readWithBotocore, type BotocoreReading } from '../support/botocore.js';
import { runCli } from '../support/cli.js';
import { credentialsFiles, NEW_PAIR, OLD } from '../support/ini-files.js';
import { createUserWithKey, listKeys, uniqueName } from '../support/iam.js';
import { FAST, tempHome } from '../support/integration.js';

/*
 * aws-rekey reads credentials files as the AWS CLI does (botocore's parser, run here from Debian's awscli),
 * refuses what it refuses, and its edits read back the same in both.
 */

const endpoint = inject('motoEndpoint');

type Reading = Record<string, Record<string, string>>;

function ourReading(doc: IniDocument): Reading {
  return Object.fromEntries(listProfiles(doc).map((name) => [name, getProfile(doc, name)!]));
}

/** The one difference we keep on purpose: " #" / " ;" starts a comment after a value, as in the JS SDK. */
function withoutComment(value: string): string {
  return value.split(/(?:^|\s)[;#]/)[0]!.trim();
}

/** botocore's reading in our terms: nested settings as `parent.name`, settings without a value left out. */
function normalize(reading: Extract<BotocoreReading, { sections: unknown }>): Reading {
  const out: Reading = {};
  for (const [section, settings] of Object.entries(reading.sections)) {
    const values: Record<string, string> = {};
    for (const [key, value] of Object.entries(settings)) {
      const flat = typeof value === 'string' ? [[key, value.split('\n').map(withoutComment).join('\n').trimEnd()]] : Object.entries(value).map(([name, v]) => [`${key}.${name}`, withoutComment(v)]);
      for (const [name, v] of flat) if (v) values[name!] = v;
    }
    out[section] = values;
  }
  return out;
}

/**
 * Where aws-rekey is stricter than botocore on purpose: lines the SDKs would read differently, credentials
 * it would read as several lines or give to every profile, and a bad nested line in [DEFAULT] (botocore
 * checks those only when the file has another section).
 */
const STRICTER = /reads differently|the SDKs as a|control character|no closing|part of that credential|gives to every profile|a nested section, but/;

describe('random files: botocore (the AWS CLI) and aws-rekey read them alike, before and after an edit', () => {
  it('600 files from fast-check (seed 20261130)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aws-rekey-botocore-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const cases: Array<{ text: string; ours: Reading | Error; after?: { text: string; ours: Reading } }> = [];
    for (const { text } of fc.sample(credentialsFiles, { numRuns: 600, seed: 20261130 })) {
      let doc: IniDocument;
      try {
        doc = parseIni(text);
      } catch (error) {
        cases.push({ text, ours: error as Error });
        continue;
      }
      const edit = replaceAccessKey(doc, OLD, NEW_PAIR);
      cases.push({ text, ours: ourReading(doc), ...(edit.profiles.length > 0 ? { after: { text: serializeIni(edit.doc), ours: ourReading(edit.doc) } } : {}) });
    }
    const paths: string[] = [];
    for (const [i, c] of cases.entries()) {
      paths.push(join(dir, `${i}-before`));
      await writeFile(paths.at(-1)!, c.text);
      if (c.after) {
        paths.push(join(dir, `${i}-after`));
        await writeFile(paths.at(-1)!, c.after.text);
      }
    }
    const readings = await readWithBotocore(paths);
    let next = 0;
    const counts = { bothRefuse: 0, stricter: 0, same: 0, edited: 0 };
    for (const c of cases) {
      const botocore = readings[next++]!;
      const context = JSON.stringify(c.text);
      if (c.ours instanceof Error) {
        if ('error' in botocore) counts.bothRefuse += 1;
        else {
          expect(c.ours.message, `${context}: refused only by aws-rekey`).toMatch(STRICTER);
          counts.stricter += 1;
        }
        continue;
      }
      expect(botocore, `${context}: aws-rekey reads a file the AWS CLI refuses`).not.toHaveProperty('error');
      expect(c.ours, context).toEqual(normalize(botocore as Extract<BotocoreReading, { sections: unknown }>));
      counts.same += 1;
      if (!c.after) continue;
      const after = readings[next++]!;
      expect(after, `${context}: the AWS CLI cannot read the edited file`).not.toHaveProperty('error');
      expect(c.after.ours, `${JSON.stringify(c.after.text)} (edited)`).toEqual(normalize(after as Extract<BotocoreReading, { sections: unknown }>));
      counts.edited += 1;
    }
    expect(next).toBe(readings.length);
    // Not vacuous: every kind of case occurs.
    expect(counts.bothRefuse).toBeGreaterThan(50);
    expect(counts.same).toBeGreaterThan(150);
    expect(counts.edited).toBeGreaterThan(40);
  });
});

describe('rotating a profile written the way botocore allows', () => {
  it('key: value and upper-case names: rotated in place, spelling kept; the AWS CLI signs with the new key', async () => {
    const user = await createUserWithKey(endpoint, uniqueName('case'));
    const home = await tempHome({
      endpoint,
      credentials: ['[work]', `AWS_ACCESS_KEY_ID: ${user.accessKeyId}`, `Aws_Secret_Access_Key = ${user.secretAccessKey}`, 'region: us-east-1', ''].join('\n'),
    });
    const keys = await runCli(['keys', '--profile', 'work', '--json'], home.env);
    expect(keys.code, keys.stderr).toBe(0);
    expect(JSON.parse(keys.stdout)).toMatchObject({ keys: [{ accessKeyId: user.accessKeyId, current: true, profiles: ['work'] }] });

    const run = await runCli(['--profile', 'work', '--yes', '--json', ...FAST], home.env);
    expect(run.code, run.stderr).toBe(0);
    const [, idLine, secretLine, regionLine] = (await home.readCredentials()).split('\n');
    const active = (await listKeys(endpoint, user.userName)).filter((key) => key.status === 'Active');
    expect(active).toHaveLength(1);
    expect(idLine).toBe(`AWS_ACCESS_KEY_ID: ${active[0]!.accessKeyId}`);
    expect(secretLine).toMatch(/^Aws_Secret_Access_Key = \S+$/);
    expect(regionLine).toBe('region: us-east-1');

    const identity = await awsCli(['sts', 'get-caller-identity', '--profile', 'work', '--endpoint-url', endpoint, '--output', 'json'], home.env);
    expect(identity.code, identity.stderr).toBe(0);
    expect(JSON.parse(identity.stdout)).toMatchObject({ Arn: user.arn });
    const configured = await awsCli(['configure', 'get', 'aws_access_key_id', '--profile', 'work'], home.env);
    expect(configured.stdout.trim()).toBe(active[0]!.accessKeyId);
  });

  it('--all finds a profile whose names are upper case', async () => {
    const user = await createUserWithKey(endpoint, uniqueName('all'));
    const home = await tempHome({ endpoint, credentials: ['[shout]', `AWS_ACCESS_KEY_ID=${user.accessKeyId}`, `AWS_SECRET_ACCESS_KEY=${user.secretAccessKey}`, ''].join('\n') });
    const run = await runCli(['--all', '--yes', '--json', ...FAST], home.env);
    expect(run.code, run.stderr).toBe(0);
    expect(await home.readCredentials()).not.toContain(user.accessKeyId);
    expect((await listKeys(endpoint, user.userName)).filter((key) => key.status === 'Active')).toHaveLength(1);
  });
});
