import { describe, expect, it } from 'vitest';
import { endpointFor } from '../../src/aws/clients.js';
import { resolveConnectionSettings } from '../../src/aws/settings.js';

describe('resolveConnectionSettings', () => {
  interface Case {
    name: string;
    env: Record<string, string>;
    config: Record<string, string>;
    expected: Record<string, string | undefined>;
  }
  it.each<Case>([
    { name: 'defaults', env: {}, config: {}, expected: { region: 'us-east-1', iamEndpoint: undefined, stsEndpoint: undefined } },
    { name: 'AWS_REGION wins over AWS_DEFAULT_REGION and the config', env: { AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'eu-west-2' }, config: { region: 'eu-west-3' }, expected: { region: 'eu-west-1' } },
    { name: 'AWS_DEFAULT_REGION', env: { AWS_DEFAULT_REGION: 'eu-west-2' }, config: { region: 'eu-west-3' }, expected: { region: 'eu-west-2' } },
    { name: 'region from the config file', env: {}, config: { region: 'cn-north-1' }, expected: { region: 'cn-north-1' } },
    { name: 'AWS_ENDPOINT_URL for both services', env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' }, config: {}, expected: { iamEndpoint: 'http://127.0.0.1:5000', stsEndpoint: 'http://127.0.0.1:5000' } },
    {
      name: 'service-specific endpoints win',
      env: { AWS_ENDPOINT_URL: 'http://a', AWS_ENDPOINT_URL_IAM: 'http://iam', AWS_ENDPOINT_URL_STS: 'http://sts' },
      config: {},
      expected: { iamEndpoint: 'http://iam', stsEndpoint: 'http://sts' },
    },
    { name: 'endpoint_url and ca_bundle from the config file', env: {}, config: { endpoint_url: 'https://x.example', ca_bundle: '/ca.pem' }, expected: { iamEndpoint: 'https://x.example', caBundle: '/ca.pem' } },
    { name: 'AWS_CA_BUNDLE wins over ca_bundle', env: { AWS_CA_BUNDLE: '/env.pem' }, config: { ca_bundle: '/cfg.pem' }, expected: { caBundle: '/env.pem' } },
    { name: 'configured endpoints can be ignored', env: { AWS_ENDPOINT_URL: 'http://a', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' }, config: {}, expected: { iamEndpoint: undefined } },
  ])('$name', ({ env, config, expected }) => {
    expect(resolveConnectionSettings({ env, profileConfig: config })).toMatchObject(expected);
  });

  it('rejects an endpoint that is not a URL, naming it', () => {
    expect(() => resolveConnectionSettings({ env: { AWS_ENDPOINT_URL_IAM: 'localhost:5000' } })).toThrowError(/not a URL|must start with/);
    expect(() => resolveConnectionSettings({ env: { AWS_ENDPOINT_URL: 'nonsense' } })).toThrowError(expect.objectContaining({ code: 'BAD_ENDPOINT', exitCode: 2 }));
  });
});

describe('endpointFor', () => {
  const settings = (region: string) => resolveConnectionSettings({ env: { AWS_REGION: region } });
  it.each([
    ['us-east-1', 'iam', 'https://iam.amazonaws.com'],
    ['eu-west-1', 'sts', 'https://sts.eu-west-1.amazonaws.com'],
    ['cn-north-1', 'iam', 'https://iam.cn-north-1.amazonaws.com.cn'],
    ['cn-northwest-1', 'sts', 'https://sts.cn-northwest-1.amazonaws.com.cn'],
    ['us-gov-west-1', 'iam', 'https://iam.us-gov.amazonaws.com'],
  ] as const)('%s %s → %s', (region, service, url) => expect(endpointFor(service, settings(region))).toBe(url));
});
