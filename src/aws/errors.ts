import { AwsError, ExitCode } from '../errors.js';

/** Network-level failures: the request may or may not have reached AWS. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
  'TimeoutError',
  'RequestTimeout',
]);

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_UNTRUSTED',
]);

const INVALID_CREDENTIAL_CODES = new Set([
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'UnrecognizedClientException',
  'InvalidAccessKeyId',
  'AuthFailure',
]);

interface SdkLikeError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: unknown;
}

/** The service's error name, or the network error code, of an SDK exception. */
export function errorCodeOf(error: unknown): string {
  if (error instanceof AwsError) return error.awsCode;
  const e = (error ?? {}) as SdkLikeError;
  if (typeof e.code === 'string' && (NETWORK_CODES.has(e.code) || TLS_CODES.has(e.code))) return e.code;
  return e.name ?? e.code ?? 'Error';
}

export function isNetworkError(error: unknown): boolean {
  const code = errorCodeOf(error);
  return NETWORK_CODES.has(code) || TLS_CODES.has(code);
}

/** True when the request may have been carried out although no answer came back. */
export function isLostResponse(error: unknown): boolean {
  return NETWORK_CODES.has(errorCodeOf(error));
}

export function isInvalidCredentials(error: unknown): boolean {
  return INVALID_CREDENTIAL_CODES.has(errorCodeOf(error));
}

const TRANSIENT_CODES = new Set(['InternalFailure', 'InternalError', 'ServiceUnavailable', 'ServiceFailure', 'Throttling', 'ThrottlingException']);

/** Worth another try later: the network, a throttle, or a 5xx from AWS. */
export function isTransientError(error: unknown): boolean {
  return isNetworkError(error) || TRANSIENT_CODES.has(errorCodeOf(error));
}

const THROTTLING_CODES = new Set(['Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded']);

/** AWS refused the call for its rate: nothing was done, and the same call may be made again later. */
export function isThrottlingError(error: unknown): boolean {
  return THROTTLING_CODES.has(errorCodeOf(error));
}

/** A 5xx from AWS: the call may or may not have been carried out. */
export function isServerFault(error: unknown): boolean {
  const cause = error instanceof AwsError ? error.cause : error;
  const status = (cause as SdkLikeError | undefined)?.$metadata?.httpStatusCode;
  if (status !== undefined) return status >= 500;
  return TRANSIENT_CODES.has(errorCodeOf(error)) && !isThrottlingError(error);
}

/**
 * Turn an SDK exception into an AwsError whose message names the action and whose hint says what to do.
 * `subject` names what the call was about (a user, a key), for the message.
 */
export function mapAwsError(error: unknown, action: string, subject?: string): AwsError {
  if (error instanceof AwsError) return error;
  const awsCode = errorCodeOf(error);
  const detail = ((error as SdkLikeError | undefined)?.message ?? String(error)).trim();
  const about = subject ? ` (${subject})` : '';
  if (awsCode === 'AccessDenied' || awsCode === 'AccessDeniedException' || awsCode === 'UnauthorizedOperation') {
    return new AwsError('ACCESS_DENIED', action, awsCode, `${action} was denied${about}: ${detail}`, {
      hint: `Allow ${action} for these credentials (see 'aws-rekey policy' or the README's Permissions section). If the policy requires MFA, add --mfa.`,
      cause: error,
    });
  }
  if (INVALID_CREDENTIAL_CODES.has(awsCode)) {
    return new AwsError('INVALID_CREDENTIALS', action, awsCode, `AWS does not accept the credentials used for ${action}${about}: ${detail}`, {
      hint: 'The access key may be deleted, inactive, or from another partition (set AWS_REGION, e.g. cn-north-1 for aws-cn).',
      cause: error,
    });
  }
  if (awsCode === 'ExpiredToken' || awsCode === 'ExpiredTokenException' || awsCode === 'RequestExpired') {
    return new AwsError('EXPIRED_CREDENTIALS', action, awsCode, `The credentials used for ${action} have expired: ${detail}`, {
      hint: 'Refresh the session (aws sso login, or a new MFA code) and run aws-rekey again.',
      cause: error,
    });
  }
  if (awsCode === 'LimitExceeded' || awsCode === 'LimitExceededException') {
    return new AwsError('LIMIT_EXCEEDED', action, awsCode, `IAM refused ${action}${about}: a limit was reached (${detail}).`, {
      hint: 'A user can have two access keys. Delete one that is not in use (aws-rekey keys shows them), then run aws-rekey again.',
      cause: error,
    });
  }
  if (awsCode === 'NoSuchEntity' || awsCode === 'NoSuchEntityException') {
    return new AwsError('NO_SUCH_ENTITY', action, awsCode, `IAM has no such entity for ${action}${about}: ${detail}`, {
      hint: 'Check the user name and key id (aws-rekey keys lists them).',
      cause: error,
    });
  }
  if (awsCode === 'Throttling' || awsCode === 'ThrottlingException' || awsCode === 'TooManyRequestsException') {
    return new AwsError('THROTTLED', action, awsCode, `AWS kept throttling ${action}${about} after several retries.`, {
      hint: 'Wait a minute and run aws-rekey again; raise AWS_MAX_ATTEMPTS to retry longer.',
      cause: error,
    });
  }
  if (TLS_CODES.has(awsCode)) {
    return new AwsError('TLS', action, awsCode, `The TLS certificate of the endpoint for ${action} is not trusted (${awsCode}): ${detail}`, {
      hint: 'Behind a TLS-inspecting proxy, set AWS_CA_BUNDLE (or ca_bundle in the config file) to its CA certificate in PEM form.',
      cause: error,
    });
  }
  if (NETWORK_CODES.has(awsCode)) {
    return new AwsError('NETWORK', action, awsCode, `Could not reach AWS for ${action} (${awsCode}): ${detail}`, {
      hint: 'Check the network, the endpoint (AWS_ENDPOINT_URL*, endpoint_url) and the proxy (HTTPS_PROXY, NO_PROXY).',
      cause: error,
    });
  }
  const status = (error as SdkLikeError | undefined)?.$metadata?.httpStatusCode;
  return new AwsError('AWS_ERROR', action, awsCode, `${action} failed${about}: ${awsCode}${status ? ` (HTTP ${status})` : ''}: ${detail}`, {
    hint:
      status && status >= 500
        ? 'AWS had a problem; run aws-rekey again in a moment.'
        : `AWS's own words above say what it refused in ${action}; fix that, then run aws-rekey again.`,
    cause: error,
    exitCode: ExitCode.failure,
  });
}
