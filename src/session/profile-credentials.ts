import { fromIni } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { doesIdentityRequireRefresh, isIdentityExpired, memoizeIdentityProvider } from '@smithy/core';
import type { ClientFactory } from '../aws/clients.js';
import { errorCodeOf, mapAwsError } from '../aws/errors.js';
import { MFA_CODE_HINT, mfaCodeProblem } from '../core/mfa-code.js';
import { AwsError, ExitCode, RekeyError, UsageError } from '../errors.js';

/*
 * A profile whose credentials come from elsewhere (role_arn + source_profile, SSO, credential_process), read
 * by the SDK's fromIni as the AWS CLI reads it: duration_seconds, role_session_name, external_id and
 * mfa_serial of the profile apply. Resolved once per run and shared by every client made with it: each SDK
 * client caches credentials on its own, so without that a role would be assumed once per client, and an MFA
 * code (valid once) asked for each time.
 */

/** Where the code of the MFA device of a role profile (mfa_serial) comes from. */
export interface MfaCodeOptions {
  /** The current code, given up front (--mfa-code): a scheduled or scripted run needs no prompt. */
  mfaCode?: string;
  /** Asks a person for it; absent when nobody is there to type it (no terminal, --json). */
  mfaCodeProvider?: (serial: string) => Promise<string>;
}

export interface ProfileCredentialsOptions extends MfaCodeOptions {
  profile: string;
  /** The profile's settings, to tell which kind of credentials failed. */
  config: Record<string, string> | undefined;
  credentialsPath: string;
  configPath: string;
  /** STS calls of the SDK (AssumeRole) go through the run's connection setup. */
  factory: ClientFactory;
  /** How messages name the profile: `auth profile`, `admin profile`, `profile`. */
  label: string;
  /** The MFA device its role is assumed with (roleMfaSerial), for messages. */
  mfaSerial?: string;
}

/** The profile's credentials, of any kind, resolved at most once per run (again only shortly before they expire). */
export function profileCredentials(options: ProfileCredentialsOptions): AwsCredentialIdentityProvider {
  const provider = fromIni({
    profile: options.profile,
    filepath: options.credentialsPath,
    configFilepath: options.configPath,
    ignoreCache: true,
    mfaCodeProvider: mfaCodeSource(options, options.profile),
    clientConfig: options.factory.stsClientConfig(),
  });
  return sharedCredentials(explainFailures(options, provider));
}

/** One resolution for every client, with the SDK's own identity cache (refreshed 5 minutes before expiry). */
export function sharedCredentials(provider: AwsCredentialIdentityProvider): AwsCredentialIdentityProvider {
  return memoizeIdentityProvider(provider, isIdentityExpired, doesIdentityRequireRefresh) as AwsCredentialIdentityProvider;
}

/** The code for the device: --mfa-code, else asked for, else an error that names --mfa-code (nothing has changed yet). */
export function mfaCodeSource(options: MfaCodeOptions, profile: string): (serial: string) => Promise<string> {
  // Errors are AwsErrors, so that they pass unchanged through the IAM or STS call that needed the credentials.
  return async (serial) => {
    if (!options.mfaCode && !options.mfaCodeProvider) {
      throw new AwsError(
        'MFA_CODE_NEEDED',
        'sts:AssumeRole',
        'MfaCodeNeeded',
        `Profile '${profile}' assumes its role with the MFA device ${serial} (mfa_serial), and there is no terminal to ask for the code.`,
        { hint: 'Pass the code the device shows now with --mfa-code CODE (a scheduled or scripted run too), or run aws-rekey in a terminal to be asked for it.', exitCode: ExitCode.usage },
      );
    }
    const code = options.mfaCode ?? (await options.mfaCodeProvider!(serial)).trim();
    const problem = mfaCodeProblem(code);
    if (problem) throw new AwsError('MFA_CODE_INVALID', 'sts:AssumeRole', 'MfaCodeInvalid', problem, { hint: MFA_CODE_HINT, exitCode: ExitCode.usage });
    return code;
  };
}

/**
 * A failure to get the profile's credentials, told as such: otherwise it surfaces as a failure of the IAM
 * call that needed them ("iam:ListAccessKeys failed: CredentialsProviderError …"), without a hint.
 */
function explainFailures(options: ProfileCredentialsOptions, provider: AwsCredentialIdentityProvider): AwsCredentialIdentityProvider {
  const { profile, config, label } = options;
  return async (identityProperties) => {
    try {
      return await provider(identityProperties);
    } catch (error) {
      if (error instanceof RekeyError) throw error;
      if (error instanceof Error && error.name === 'CredentialsProviderError') {
        throw new AwsError('AUTH_PROFILE_UNUSABLE', 'credentials', error.name, `Cannot get credentials from the ${label} '${profile}': ${error.message}`, {
          hint: `Check it with 'aws sts get-caller-identity --profile ${profile}' (for SSO, run 'aws sso login --profile ${profile}' first).`,
          cause: error,
          exitCode: ExitCode.usage,
        });
      }
      const serial = options.mfaSerial;
      // AWS's words for a wrong, reused or expired code ("MultiFactorAuthentication failed with invalid MFA one time pass code").
      if (serial && errorCodeOf(error) === 'AccessDenied' && /MultiFactorAuthentication failed/i.test((error as Error).message)) {
        throw new AwsError('MFA_CODE_REJECTED', 'sts:AssumeRole', 'AccessDenied', `AWS did not accept the MFA code for ${serial} (${label} '${profile}'): ${(error as Error).message.trim()}`, {
          hint: `A code is good once, for about 30 seconds: run aws-rekey again with the code the device shows now (--mfa-code CODE, or type it when asked). If that fails too, check that the mfa_serial of '${profile}' names your device (aws iam list-mfa-devices) and that the device's clock is right.`,
          cause: error,
          exitCode: ExitCode.usage,
        });
      }
      const action = config?.role_arn ? 'sts:AssumeRole' : config?.sso_session || config?.sso_start_url ? 'sso:GetRoleCredentials' : undefined;
      throw action ? mapAwsError(error, action, `${label} ${profile}`) : error;
    }
  };
}

/** --mfa-code for credentials that take none: refused, so that a scheduled run's mistake shows at once. */
export function refuseUnusedMfaCode(mfaCode: string | undefined, serial: string | undefined, who: string): void {
  if (mfaCode === undefined || serial !== undefined) return;
  throw new UsageError(
    `--mfa-code is the code of the MFA device of a role profile (mfa_serial beside role_arn), and ${who} has none.`,
    'Drop --mfa-code, or name a profile whose role needs it (in ~/.aws/config: role_arn, source_profile and mfa_serial).',
    'MFA_CODE_NOT_USED',
  );
}
