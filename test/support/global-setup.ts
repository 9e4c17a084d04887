import type { TestProject } from 'vitest/node';
import { startMoto, type MotoHandle } from './moto.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** moto in server mode: give it to clients as their endpoint (AWS_ENDPOINT_URL). */
    motoEndpoint: string;
    /** moto in proxy mode (its own state): HTTPS_PROXY=proxyUrl, AWS_CA_BUNDLE=caBundle, no endpoint override. */
    motoProxy: { proxyUrl: string; caBundle: string };
  }
}

/** One moto server and one moto proxy for the whole integration run. Fails the run, saying why, if either cannot start. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const results = await Promise.allSettled([startMoto({ mode: 'server' }), startMoto({ mode: 'proxy' })]);
  const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const teardown = async () => {
    await Promise.all(started.map((h: MotoHandle) => h.stop()));
  };
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason instanceof Error ? r.reason.message : String(r.reason)] : []));
  const [server, proxy] = started;
  if (failures.length > 0 || !server || !proxy || !proxy.proxyUrl || !proxy.caBundle) {
    await teardown();
    throw new Error(`The integration tests need moto (a local IAM/STS), which could not be started:\n${[...new Set(failures)].join('\n') || 'unknown reason'}`);
  }
  project.provide('motoEndpoint', server.endpoint);
  project.provide('motoProxy', { proxyUrl: proxy.proxyUrl, caBundle: proxy.caBundle });
  return teardown;
}
