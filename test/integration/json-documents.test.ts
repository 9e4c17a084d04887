import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { credentialsFile, pairOf, runCli, type CliRun } from '../support/cli.js';
import { createAccessKey, createUserWithKey, setKeyStatus, uniqueName } from '../support/iam.js';
import { FAST, succeed, tempFaultProxy, tempHome } from '../support/integration.js';

/*
 * Every `--json` document holds only our own fields (issue 9.6): no SDK response metadata (`$metadata`,
 * `$fault`, `$response`), no serialised SDK or Error objects (stack, request ids, retry counts, an Error as
 * `cause`), and no secret access key unless the command was asked to print one. Each document is walked
 * whole, so a field added later is checked too.
 */

const endpoint = inject('motoEndpoint');

/** Keys that only the SDK's response metadata or a serialised error carry. */
const SDK_KEYS = ['httpStatusCode', 'requestId', 'extendedRequestId', 'cfId', 'attempts', 'totalRetryDelay'];
/** A run of exactly 40 characters of a secret access key's alphabet. */
const SECRET_LIKE = /(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])/;

interface WalkOptions {
  /** The command was asked to print the new secret (e.g. --print-secret). */
  secretsAllowed?: boolean;
  /** Secrets that must not appear anywhere, even as part of a longer string. */
  secrets?: string[];
}

/** Every problem found in a document, as `path: what`; empty when it holds only our own fields. */
function internals(value: unknown, options: WalkOptions = {}, path = '$doc'): string[] {
  if (typeof value === 'string') {
    const found: string[] = [];
    if (/\n\s+at .+:\d+:\d+\)?/.test(value)) found.push(`${path}: holds a stack trace`);
    if (options.secretsAllowed) return found;
    if (SECRET_LIKE.test(value)) found.push(`${path}: looks like a secret access key`);
    for (const secret of options.secrets ?? []) if (value.includes(secret)) found.push(`${path}: holds a known secret access key`);
    return found;
  }
  if (Array.isArray(value)) return value.flatMap((item, index) => internals(item, options, `${path}[${index}]`));
  if (value === null || typeof value !== 'object') return [];
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  const found: string[] = [];
  for (const key of keys) if (key.startsWith('$')) found.push(`${path}.${key}: SDK metadata`);
  for (const key of SDK_KEYS) if (key in record) found.push(`${path}.${key}: SDK internals`);
  if ('name' in record && 'stack' in record) found.push(`${path}: a serialised Error (name + stack)`);
  if ('stack' in record && typeof record.stack === 'string' && /\n\s+at /.test(record.stack)) found.push(`${path}.stack: a stack trace`);
  const cause = record.cause;
  if (cause !== null && typeof cause === 'object' && ('name' in cause || 'stack' in cause || '$metadata' in cause)) {
    found.push(`${path}.cause: an Error as cause`);
  }
  for (const key of keys) found.push(...internals(record[key], options, `${path}.${key}`));
  return found;
}

/** Parses the run's stdout as one JSON document and expects nothing but our own fields in it. */
function expectOwnFields(run: CliRun, options: WalkOptions = {}): Record<string, unknown> {
  let doc: unknown;
  expect(() => (doc = JSON.parse(run.stdout)), `stdout is one JSON document:\n${run.stdout}\n${run.stderr}`).not.toThrow();
  expect(doc, 'a JSON object').toBeTypeOf('object');
  expect(internals(doc, options), run.stdout).toEqual([]);
  return doc as Record<string, unknown>;
}

/** The secret access keys a credentials file holds. */
async function secretsIn(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8');
  return [...text.matchAll(/aws_secret_access_key\s*=\s*(\S+)/gi)].map((match) => match[1]!);
}

describe('the walker itself', () => {
  it('finds SDK metadata, serialised errors, an Error cause and secret-looking strings, and passes our own fields', () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    expect(internals({ ok: true, keys: [{ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', created: '2026-01-01T00:00:00.000Z' }], file: '/tmp/x/.aws/credentials' })).toEqual([]);
    expect(internals({ error: { $metadata: { httpStatusCode: 403 } } })).toEqual([
      '$doc.error.$metadata: SDK metadata',
      '$doc.error.$metadata.httpStatusCode: SDK internals',
    ]);
    expect(internals({ error: { $fault: 'client', $response: {} } })).toHaveLength(2);
    expect(internals({ error: { name: 'AccessDenied', stack: 'AccessDenied: no\n    at x (y.js:1:1)' } })).toHaveLength(3);
    expect(internals({ error: { cause: { name: 'TimeoutError', message: 'late' } } })).toEqual(['$doc.error.cause: an Error as cause']);
    expect(internals({ user: { requestId: 'abc' } })).toEqual(['$doc.user.requestId: SDK internals']);
    expect(internals({ newKey: { secretAccessKey: secret } })).toEqual(['$doc.newKey.secretAccessKey: looks like a secret access key']);
    expect(internals({ newKey: { secretAccessKey: secret } }, { secretsAllowed: true })).toEqual([]);
    expect(internals({ message: `leaked ${secret}.` })).toHaveLength(1);
    expect(internals({ message: 'Unexpected error: TypeError: x\n    at f (/app/dist/cli.js:1:2)' })).toEqual(['$doc.message: holds a stack trace']);
  });
});

describe('--json documents hold only our own fields', () => {
  it('rotate --profile X --yes --json, and then status --json after a staged rotation', async () => {
    const user = await createUserWithKey(endpoint, uniqueName('jsonwalk-rot'));
    const app = await createUserWithKey(endpoint, uniqueName('jsonwalk-stage'));
    const home = await tempHome({ endpoint, credentials: credentialsFile({ work: pairOf(user), app: pairOf(app) }) });
    const run = await succeed(['rotate', '--profile', 'work', '--yes', '--json', ...FAST], home.env);
    const secrets = [user.secretAccessKey, ...(await secretsIn(home.credentialsPath))];
    expect(expectOwnFields(run, { secrets })).toMatchObject({ ok: true });

    await succeed(['rotate', '--profile', 'app', '--stage', 'create', '--yes', '--json', ...FAST], home.env).then((staged) =>
      expectOwnFields(staged, { secrets: [app.secretAccessKey, ...secrets] }),
    );
    const status = await succeed(['status', '--json'], home.env);
    const doc = expectOwnFields(status, { secrets: [app.secretAccessKey, ...(await secretsIn(home.credentialsPath))] });
    expect(doc.rotations, status.stdout).toHaveLength(1);
  });

  it('rotate --all --dry-run --json', async () => {
    const one = await createUserWithKey(endpoint, uniqueName('jsonwalk-all1'));
    const two = await createUserWithKey(endpoint, uniqueName('jsonwalk-all2'));
    const home = await tempHome({ endpoint, credentials: credentialsFile({ one: pairOf(one), two: pairOf(two) }) });
    const run = await succeed(['rotate', '--all', '--dry-run', '--json'], home.env);
    expectOwnFields(run, { secrets: [one.secretAccessKey, two.secretAccessKey] });
  });

  it('rotate --user U --profile admin --out FILE --yes --json: the secret goes to the file, not to the document', async () => {
    const admin = await createUserWithKey(endpoint, uniqueName('jsonwalk-admin'));
    const target = await createUserWithKey(endpoint, uniqueName('jsonwalk-target'));
    const home = await tempHome({ endpoint, credentials: credentialsFile({ admin: pairOf(admin) }) });
    const out = join(home.home, 'target-key');
    const run = await succeed(['rotate', '--user', target.userName, '--profile', 'admin', '--out', out, '--yes', '--json', ...FAST], home.env);
    const written = await secretsIn(out);
    expect(written).toHaveLength(1);
    expectOwnFields(run, { secrets: [admin.secretAccessKey, target.secretAccessKey, ...written] });
  });

  it('rotate --user U --print-secret --json: the new secret only in the pair document, not in the result', async () => {
    const admin = await createUserWithKey(endpoint, uniqueName('jsonwalk-admin'));
    const target = await createUserWithKey(endpoint, uniqueName('jsonwalk-print'));
    const home = await tempHome({ endpoint, credentials: credentialsFile({ admin: pairOf(admin) }) });
    const run = await succeed(['rotate', '--user', target.userName, '--profile', 'admin', '--print-secret', '--yes', '--json', ...FAST], home.env);
    // Two documents, by design: the pair first (the only copy), then the result, which holds no secret.
    const [pairText, resultText, ...more] = run.stdout.split(/\n(?=\{)/);
    expect(more).toEqual([]);
    const pair = expectOwnFields({ ...run, stdout: pairText! }, { secretsAllowed: true }) as { newKey: { secretAccessKey: string } };
    expect(pair.newKey.secretAccessKey).toMatch(SECRET_LIKE);
    const result = expectOwnFields({ ...run, stdout: resultText! }, { secrets: [admin.secretAccessKey, target.secretAccessKey, pair.newKey.secretAccessKey] });
    expect(result).toMatchObject({ ok: true });
    expect(run.stdout).not.toContain(admin.secretAccessKey);
  });

  it('keys --json, audit --json and prune --dry-run --json', async () => {
    const user = await createUserWithKey(endpoint, uniqueName('jsonwalk-keys'));
    const retired = await createAccessKey(endpoint, user.userName);
    await setKeyStatus(endpoint, user.userName, retired.accessKeyId, 'Inactive');
    const home = await tempHome({ endpoint, credentials: credentialsFile({ work: pairOf(user) }) });
    const secrets = [user.secretAccessKey, retired.secretAccessKey];

    const keys = await succeed(['keys', '--profile', 'work', '--json'], home.env);
    expectOwnFields(keys, { secrets });
    expect(keys.stdout).toContain(retired.accessKeyId);

    const audit = await runCli(['audit', '--profile', 'work', '--user', user.userName, '--json'], home.env);
    expect([0, 1], audit.stderr).toContain(audit.code);
    expectOwnFields(audit, { secrets });
    expect(audit.stdout).toContain(user.accessKeyId);

    const prune = await succeed(['prune', '--profile', 'work', '--dry-run', '--json'], home.env);
    expect(expectOwnFields(prune, { secrets })).toMatchObject({ dryRun: true, deleted: [{ accessKeyId: retired.accessKeyId }] });
  });

  it('failures: an unknown profile, a refused plan and an AWS error are documents of our own too', async () => {
    const user = await createUserWithKey(endpoint, uniqueName('jsonwalk-fail'));
    const home = await tempHome({ endpoint, credentials: credentialsFile({ work: pairOf(user) }) });
    const secrets = [user.secretAccessKey];

    const unknown = await runCli(['rotate', '--profile', 'nope', '--yes', '--json'], home.env);
    expect(unknown.code).not.toBe(0);
    expect(expectOwnFields(unknown, { secrets })).toMatchObject({ ok: false, error: { message: expect.any(String) } });

    // A refused plan: prune --key of the active key.
    const refused = await runCli(['prune', '--profile', 'work', '--key', user.accessKeyId, '--yes', '--json'], home.env);
    expect(refused.code).toBe(2);
    expect(expectOwnFields(refused, { secrets })).toMatchObject({ ok: false, error: { code: 'PRUNE_REFUSED' } });

    // An error from AWS itself: the SDK's exception must not be serialised into the document.
    const proxy = await tempFaultProxy(endpoint);
    proxy.setRules([{ action: 'CreateAccessKey', fault: { kind: 'error', status: 403, code: 'AccessDenied', message: 'not allowed' } }]);
    const denied = await runCli(['rotate', '--profile', 'work', '--yes', '--json', ...FAST], { ...home.env, AWS_ENDPOINT_URL: proxy.endpoint });
    expect(denied.code).not.toBe(0);
    expect(expectOwnFields(denied, { secrets })).toMatchObject({ ok: false });
    // A server error, an answer the SDK cannot use and throttling: each an error of our own, no SDK exception.
    for (const fault of [{ kind: 'error', status: 500, code: 'InternalFailure' }, { kind: 'respond', status: 200, body: '<nonsense/>' }, { kind: 'error', status: 400, code: 'Throttling' }] as const) {
      proxy.setRules([{ action: 'CreateAccessKey', fault }]);
      const probe = await runCli(['rotate', '--profile', 'work', '--yes', '--json', ...FAST], { ...home.env, AWS_ENDPOINT_URL: proxy.endpoint });
      expect(probe.code, probe.stderr).toBe(1);
      expect(expectOwnFields(probe, { secrets })).toMatchObject({ ok: false, error: { code: expect.any(String), message: expect.any(String) } });
    }
    expect(JSON.parse(denied.stdout)).toMatchObject({ error: { code: 'ACCESS_DENIED', message: expect.stringContaining('not allowed') } });
  });
});
