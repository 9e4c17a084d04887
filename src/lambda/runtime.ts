import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { createClientFactory, type ClientFactory, type CredentialsInput } from '../aws/clients.js';
import { resolveConnectionSettings } from '../aws/settings.js';
import { orgSettingsFromEnv, type OrgSettings } from '../org/config.js';
import { createJsonLogger, type OrgLogger } from '../org/log.js';

/** What a handler needs; built once per Lambda container from its environment. Tests pass their own. */
export interface HandlerOptions {
  env?: NodeJS.ProcessEnv;
  /** The function role's credentials by default. */
  credentials?: CredentialsInput;
  /** Real time by default; tests move it. */
  now?: () => Date;
  /** JSON lines to stdout (CloudWatch Logs) by default. */
  write?: (line: string) => void;
}

export interface HandlerRuntime {
  settings: OrgSettings;
  factory: ClientFactory;
  credentials: CredentialsInput;
  log: OrgLogger;
  now: () => Date;
  env: NodeJS.ProcessEnv;
}

export async function createHandlerRuntime(name: string, options: HandlerOptions): Promise<HandlerRuntime> {
  const env = options.env ?? process.env;
  const log = createJsonLogger(options.write ?? ((line) => process.stdout.write(line)), { handler: name });
  const settings = orgSettingsFromEnv(env);
  const factory = await createClientFactory(resolveConnectionSettings({ env }));
  const credentials = options.credentials ?? fromNodeProviderChain();
  return { settings, factory, credentials, log, now: options.now ?? (() => new Date()), env };
}

/** One runtime per container, made on the first invocation (settings errors surface there, logged). */
export function lazily<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => {
    made ??= make();
    made.catch(() => {
      made = undefined;
    });
    return made;
  };
}
