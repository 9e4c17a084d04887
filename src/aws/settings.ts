import { UsageError } from '../errors.js';

/**
 * Where and how to reach IAM and STS, resolved the way the AWS CLI resolves it: environment first, then the
 * profile's settings in the config file, then defaults.
 */
export interface ConnectionSettings {
  region: string;
  /** Endpoint overrides; undefined means the SDK's default endpoint for the region's partition. */
  iamEndpoint?: string;
  stsEndpoint?: string;
  /**
   * Endpoint overrides of the organisation's other services (Organizations, SQS, SNS…), by the SDK's
   * service id in upper case with `_` (SECRETS_MANAGER): AWS_ENDPOINT_URL_<ID>, else AWS_ENDPOINT_URL.
   */
  serviceEndpoints?: { general?: string; byService: Record<string, string> };
  /** Path of a PEM bundle of extra CA certificates (AWS_CA_BUNDLE / ca_bundle). */
  caBundle?: string;
  /** Upper bound for one HTTP request, so that a dead network fails instead of hanging. */
  requestTimeoutMs: number;
  connectTimeoutMs: number;
  maxAttempts: number;
}

export interface ResolveSettingsOptions {
  env: NodeJS.ProcessEnv;
  /** The settings of the profile in the config file (`[profile NAME]`), if any. */
  profileConfig?: Record<string, string>;
}

const DEFAULT_REGION = 'us-east-1';

export function resolveConnectionSettings({ env, profileConfig = {} }: ResolveSettingsOptions): ConnectionSettings {
  const region = nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION) ?? nonEmpty(profileConfig.region) ?? DEFAULT_REGION;
  const ignoreConfigured = (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS ?? '').toLowerCase() === 'true';
  const generalEndpoint = ignoreConfigured ? undefined : nonEmpty(env.AWS_ENDPOINT_URL) ?? nonEmpty(profileConfig.endpoint_url);
  const iamEndpoint = ignoreConfigured ? undefined : nonEmpty(env.AWS_ENDPOINT_URL_IAM) ?? generalEndpoint;
  const stsEndpoint = ignoreConfigured ? undefined : nonEmpty(env.AWS_ENDPOINT_URL_STS) ?? generalEndpoint;
  for (const [name, value] of [
    ['IAM endpoint', iamEndpoint],
    ['STS endpoint', stsEndpoint],
  ] as const) {
    if (value !== undefined) checkEndpointUrl(name, value);
  }
  const byService: Record<string, string> = {};
  if (!ignoreConfigured) {
    for (const [name, value] of Object.entries(env)) {
      const id = /^AWS_ENDPOINT_URL_(\w+)$/.exec(name)?.[1];
      const url = nonEmpty(value);
      if (id && url && id !== 'IAM' && id !== 'STS') byService[id] = url;
    }
  }
  const settings: ConnectionSettings = {
    region,
    iamEndpoint,
    stsEndpoint,
    serviceEndpoints: { ...(generalEndpoint ? { general: generalEndpoint } : {}), byService },
    caBundle: nonEmpty(env.AWS_CA_BUNDLE) ?? nonEmpty(profileConfig.ca_bundle),
    requestTimeoutMs: positiveInt(env.AWS_REKEY_REQUEST_TIMEOUT_MS, 'AWS_REKEY_REQUEST_TIMEOUT_MS') ?? 15_000,
    connectTimeoutMs: positiveInt(env.AWS_REKEY_CONNECT_TIMEOUT_MS, 'AWS_REKEY_CONNECT_TIMEOUT_MS') ?? 5_000,
    maxAttempts: positiveInt(env.AWS_MAX_ATTEMPTS, 'AWS_MAX_ATTEMPTS') ?? positiveInt(profileConfig.max_attempts, 'max_attempts') ?? 3,
  };
  return settings;
}

function checkEndpointUrl(name: string, value: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(
      `The ${name} '${value}' is not a URL.`,
      'Set AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_IAM / AWS_ENDPOINT_URL_STS (or endpoint_url in the config file) to a URL like https://iam.amazonaws.com, or unset it.',
      'BAD_ENDPOINT',
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(
      `The ${name} '${value}' must start with https:// or http://.`,
      'Set AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_IAM / AWS_ENDPOINT_URL_STS (or endpoint_url in the config file) to an https:// URL, or unset it.',
      'BAD_ENDPOINT',
    );
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function positiveInt(value: string | undefined, name: string): number | undefined {
  const text = nonEmpty(value);
  if (text === undefined) return undefined;
  const number = Number(text);
  if (!Number.isInteger(number) || number <= 0) {
    throw new UsageError(`${name} must be a positive whole number, not '${text}'.`, `Set ${name} to a number such as 3, or unset it.`);
  }
  return number;
}
