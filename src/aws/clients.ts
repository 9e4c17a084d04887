import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { HttpProxyAgent, HttpsProxyAgent } from 'hpagent';
import { getProxyForUrl } from 'proxy-from-env';
import { partitionOfRegion } from '../core/arn.js';
import { RekeyError, UsageError } from '../errors.js';
import type { ConnectionSettings } from './settings.js';

export type CredentialsInput = AwsCredentialIdentity | AwsCredentialIdentityProvider;

/** Builds IAM and STS clients that share one connection setup (proxy, CA bundle, timeouts). */
export interface ClientFactory {
  readonly settings: ConnectionSettings;
  /** `retryMode: 'adaptive'` adds client-side rate limiting on throttling: for bulk reads (the audit). */
  iam(credentials: CredentialsInput, options?: { maxAttempts?: number; retryMode?: 'standard' | 'adaptive' }): IAMClient;
  sts(credentials: CredentialsInput, options?: { maxAttempts?: number }): STSClient;
  /** Client settings for STS clients the SDK makes itself (e.g. to assume an --auth-profile's role). */
  stsClientConfig(): { region: string; endpoint?: string; requestHandler: NodeHttpHandler };
  /**
   * The configuration of a client of another service (the organisation's Organizations, SQS, SNS…), with
   * the same connection setup: `new SQSClient(factory.clientConfig('SQS', credentials))`.
   * `service` is the SDK's service id in upper case with `_`, as in AWS_ENDPOINT_URL_<ID>.
   */
  clientConfig(service: string, credentials: CredentialsInput, options?: { maxAttempts?: number; retryMode?: 'standard' | 'adaptive' }): ServiceClientConfig;
  destroy(): void;
}

/** Bulk reads (an account, an organisation): patient retries with the SDK's adaptive (client-side) rate limiting. */
export const BULK_CLIENT_OPTIONS = { retryMode: 'adaptive' as const, maxAttempts: 10 };

export interface ServiceClientConfig {
  region: string;
  credentials: CredentialsInput;
  maxAttempts: number;
  retryMode: 'standard' | 'adaptive';
  requestHandler: NodeHttpHandler;
  endpoint?: string;
}

export async function createClientFactory(settings: ConnectionSettings): Promise<ClientFactory> {
  const ca = settings.caBundle === undefined ? undefined : await readCaBundle(settings.caBundle);
  const iamHandler = createHandler(settings, endpointFor('iam', settings), ca);
  const stsHandler = createHandler(settings, endpointFor('sts', settings), ca);
  // One handler (connection pool, proxy choice) per endpoint of the other services, made on first use.
  const otherHandlers = new Map<string, SharedHttpHandler>();
  const handlerFor = (endpoint: string) => {
    let handler = otherHandlers.get(endpoint);
    if (!handler) {
      handler = createHandler(settings, endpoint, ca);
      otherHandlers.set(endpoint, handler);
    }
    return handler;
  };
  const common = (credentials: CredentialsInput, maxAttempts: number | undefined, retryMode: 'standard' | 'adaptive' = 'standard') => ({
    region: settings.region,
    credentials,
    maxAttempts: maxAttempts ?? settings.maxAttempts,
    retryMode,
  });
  return {
    settings,
    iam: (credentials, options = {}) =>
      new IAMClient({
        ...common(credentials, options.maxAttempts, options.retryMode),
        requestHandler: iamHandler,
        ...(settings.iamEndpoint ? { endpoint: settings.iamEndpoint } : {}),
      }),
    sts: (credentials, options = {}) =>
      new STSClient({
        ...common(credentials, options.maxAttempts),
        requestHandler: stsHandler,
        ...(settings.stsEndpoint ? { endpoint: settings.stsEndpoint } : {}),
      }),
    stsClientConfig: () => ({
      region: settings.region,
      requestHandler: stsHandler,
      ...(settings.stsEndpoint ? { endpoint: settings.stsEndpoint } : {}),
    }),
    clientConfig: (service, credentials, options = {}) => {
      const endpoint = settings.serviceEndpoints?.byService[service] ?? settings.serviceEndpoints?.general;
      const host = service.toLowerCase().replace(/_/g, '');
      const defaultUrl = `https://${host}.${settings.region}.${partitionOfRegion(settings.region) === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com'}`;
      return {
        ...common(credentials, options.maxAttempts, options.retryMode),
        requestHandler: handlerFor(endpoint ?? defaultUrl),
        ...(endpoint ? { endpoint } : {}),
      };
    },
    destroy: () => {
      iamHandler.close();
      stsHandler.close();
      for (const handler of otherHandlers.values()) handler.close();
    },
  };
}

/**
 * A connection pool that every client of the factory shares. A client's `destroy()` (the SDK's: it destroys the
 * client's request handler) leaves it open: closing one account while others are still being read must not
 * cut their requests in flight, which the SDK then sends again (their answers lost: a CreateSecret or
 * CreateAccessKey made twice). The factory's `destroy()` closes it.
 */
class SharedHttpHandler extends NodeHttpHandler {
  override destroy(): void {}

  close(): void {
    super.destroy();
  }
}

/** The URL the SDK will call, so that NO_PROXY can be matched against its host. */
export function endpointFor(service: 'iam' | 'sts', settings: ConnectionSettings): string {
  const override = service === 'iam' ? settings.iamEndpoint : settings.stsEndpoint;
  if (override) return override;
  const partition = partitionOfRegion(settings.region);
  const suffix = partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  if (service === 'iam') {
    if (partition === 'aws-cn') return `https://iam.cn-north-1.${suffix}`;
    if (partition === 'aws-us-gov') return `https://iam.us-gov.${suffix}`;
    return `https://iam.${suffix}`;
  }
  return `https://sts.${settings.region}.${suffix}`;
}

function createHandler(settings: ConnectionSettings, endpoint: string, ca: string | undefined): SharedHttpHandler {
  const agentOptions = { keepAlive: true, maxSockets: 50, ...(ca === undefined ? {} : { ca }) };
  const proxy = getProxyForUrl(endpoint);
  let httpAgent: http.Agent;
  let httpsAgent: https.Agent;
  if (proxy) {
    checkProxyUrl(proxy);
    // hpagent's HttpsProxyAgent is an https.Agent: `ca` applies to the TLS session tunnelled to AWS.
    httpsAgent = new HttpsProxyAgent({ ...agentOptions, proxy });
    httpAgent = new HttpProxyAgent({ keepAlive: true, maxSockets: 50, proxy });
  } else {
    httpsAgent = new https.Agent(agentOptions);
    httpAgent = new http.Agent({ keepAlive: true, maxSockets: 50 });
  }
  return new SharedHttpHandler({
    httpAgent,
    httpsAgent,
    connectionTimeout: settings.connectTimeoutMs,
    requestTimeout: settings.requestTimeoutMs,
    // Without it, @smithy/node-http-handler 4.x only prints a warning when requestTimeout passes, and a request
    // whose answer never comes waits for the client's own socket timeout (IAM: 5 minutes).
    throwOnRequestTimeout: true,
  });
}

function checkProxyUrl(proxy: string): void {
  try {
    new URL(proxy);
  } catch {
    throw new UsageError(
      `The proxy '${proxy}' (from HTTPS_PROXY/HTTP_PROXY) is not a URL.`,
      'Set it to a URL like http://proxy.example.com:3128, or unset it.',
      'BAD_PROXY',
    );
  }
}

async function readCaBundle(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new RekeyError('CA_BUNDLE_UNREADABLE', `Cannot read the CA bundle ${path}: ${(error as Error).message}.`, {
      hint: 'Point AWS_CA_BUNDLE (or ca_bundle in the config file) at a readable PEM file, or unset it.',
      exitCode: 2,
    });
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) {
    throw new RekeyError('CA_BUNDLE_INVALID', `The CA bundle ${path} holds no PEM certificate.`, {
      hint: 'AWS_CA_BUNDLE must name a file of "-----BEGIN CERTIFICATE-----" blocks.',
      exitCode: 2,
    });
  }
  return text;
}
