import { describe, expect, inject, it } from 'vitest';
import { createClientFactory } from '../../src/aws/clients.js';
import { resolveConnectionSettings } from '../../src/aws/settings.js';
import { openAccount } from '../../src/org/runtime.js';
import { DUMMY_CREDENTIALS, REGION } from '../support/iam.js';
import { tempFaultProxy } from '../support/integration.js';

/**
 * The client factory's connections, against moto through the fault proxy. The accounts of an organisation are
 * read side by side through one factory, whose connection pools their clients share: before, closing one
 * account destroyed the pools and cut the requests of the others in flight, which the SDK sent again (100-300
 * a scenario in the organisation benchmark). And a request limit that only warned let a lost answer hang a run.
 */

const endpoint = inject('motoEndpoint');
const SETTINGS = { partition: 'aws', memberRoleName: 'aws-rekey-member' };

describe("the client factory's connections", () => {
  it('closing an account leaves the requests of another in flight alone: each is sent once', async () => {
    const proxy = await tempFaultProxy(endpoint);
    const factory = await createClientFactory(resolveConnectionSettings({ env: { AWS_REGION: REGION, AWS_ENDPOINT_URL: proxy.endpoint } }));
    try {
      const reading = await openAccount(factory, DUMMY_CREDENTIALS, SETTINGS, '111111111111');
      const closing = await openAccount(factory, DUMMY_CREDENTIALS, SETTINGS, '222222222222');
      let closed = false;
      // The moment the first account's request has reached the proxy, and before its answer, the other closes.
      proxy.onRequest('GetAccountSummary', () => {
        if (closed) return;
        closed = true;
        closing.close();
      });
      expect(await reading.read.audit.rootKeysPresent()).toBe(false);
      expect(closed).toBe(true);
      expect(proxy.log.filter((entry) => entry.action === 'GetAccountSummary').map((entry) => entry.status)).toEqual([200]);
    } finally {
      factory.destroy();
    }
  });

  it('a request that gets no answer within AWS_REKEY_REQUEST_TIMEOUT_MS fails and is sent again, not waited for', { timeout: 60_000 }, async () => {
    const proxy = await tempFaultProxy(endpoint);
    const env = { AWS_REGION: REGION, AWS_ENDPOINT_URL: proxy.endpoint, AWS_REKEY_REQUEST_TIMEOUT_MS: '1000' };
    const factory = await createClientFactory(resolveConnectionSettings({ env }));
    try {
      const account = await openAccount(factory, DUMMY_CREDENTIALS, SETTINGS, '333333333333');
      // moto answers, the answer never comes: without the limit, the SDK waits for its 5-minute socket timeout.
      proxy.setRules([{ action: 'GetAccountSummary', fault: { kind: 'stall-response' }, times: 1 }]);
      expect(await account.read.audit.rootKeysPresent()).toBe(false);
      expect(proxy.log.filter((entry) => entry.action === 'GetAccountSummary').map((entry) => entry.status)).toEqual(['stalled', 200]);
    } finally {
      factory.destroy();
    }
  });
});
