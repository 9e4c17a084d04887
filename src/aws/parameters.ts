import {
  DeleteParameterCommand,
  GetParameterCommand,
  GetParameterHistoryCommand,
  PutParameterCommand,
  SSMClient,
  type ParameterHistory,
} from '@aws-sdk/client-ssm';
import type { ClientFactory, CredentialsInput } from './clients.js';
import { errorCodeOf, mapAwsError } from './errors.js';

export interface ParameterState {
  /** Decrypted. */
  value: string;
  version: number;
  type: string;
}

export interface ParameterVersion {
  version: number;
  /** Decrypted. */
  value: string;
  type: string;
  /** The KMS key of a SecureString version. */
  keyId?: string;
}

/** The SSM Parameter Store calls of `--to-parameter`. SDK errors come out as AwsError. */
export interface ParametersApi {
  /** The current version, decrypted; undefined when there is no such parameter. */
  get(name: string): Promise<ParameterState | undefined>;
  /** Writes a SecureString version: a new parameter (tagged), or, with `overwrite`, a new version of it. Returns its version. */
  put(name: string, value: string, options: { overwrite: boolean; keyId?: string; description?: string; tags?: Record<string, string> }): Promise<number>;
  /** Every version still kept (SSM keeps the last 100), oldest first, decrypted. */
  history(name: string): Promise<ParameterVersion[]>;
  /** false when there was no such parameter. */
  delete(name: string): Promise<boolean>;
}

const isMissing = (error: unknown) => errorCodeOf(error) === 'ParameterNotFound';

export function createParametersApi(client: SSMClient): ParametersApi {
  return {
    async get(name) {
      try {
        const parameter = (await client.send(new GetParameterCommand({ Name: name, WithDecryption: true }))).Parameter;
        return parameter ? { value: parameter.Value ?? '', version: parameter.Version ?? 0, type: parameter.Type ?? '' } : undefined;
      } catch (error) {
        if (isMissing(error)) return undefined;
        throw mapAwsError(error, 'ssm:GetParameter', name);
      }
    },
    async put(name, value, options) {
      try {
        const out = await client.send(
          new PutParameterCommand({
            Name: name,
            Value: value,
            Type: 'SecureString',
            Overwrite: options.overwrite,
            ...(options.keyId ? { KeyId: options.keyId } : {}),
            ...(options.description ? { Description: options.description } : {}),
            // SSM refuses tags on an overwrite: a new parameter only.
            ...(options.tags && !options.overwrite ? { Tags: Object.entries(options.tags).map(([Key, Value]) => ({ Key, Value })) } : {}),
          }),
        );
        return out.Version ?? 0;
      } catch (error) {
        throw mapAwsError(error, 'ssm:PutParameter', name);
      }
    },
    async history(name) {
      const versions: ParameterHistory[] = [];
      let token: string | undefined;
      try {
        do {
          const page = await client.send(new GetParameterHistoryCommand({ Name: name, WithDecryption: true, ...(token ? { NextToken: token } : {}) }));
          versions.push(...(page.Parameters ?? []));
          token = page.NextToken;
        } while (token);
      } catch (error) {
        if (isMissing(error)) return [];
        throw mapAwsError(error, 'ssm:GetParameterHistory', name);
      }
      return versions
        .map((v) => ({ version: v.Version ?? 0, value: v.Value ?? '', type: v.Type ?? '', ...(v.KeyId ? { keyId: v.KeyId } : {}) }))
        .sort((a, b) => a.version - b.version);
    },
    async delete(name) {
      try {
        await client.send(new DeleteParameterCommand({ Name: name }));
        return true;
      } catch (error) {
        if (isMissing(error)) return false;
        throw mapAwsError(error, 'ssm:DeleteParameter', name);
      }
    },
  };
}

/** A client with the factory's connection setup (proxy, CA bundle, AWS_ENDPOINT_URL_SSM). */
export function openParametersApi(factory: ClientFactory, credentials: CredentialsInput): ParametersApi {
  return createParametersApi(new SSMClient(factory.clientConfig('SSM', credentials)));
}
