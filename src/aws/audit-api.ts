import {
  GenerateCredentialReportCommand,
  GetAccessKeyLastUsedCommand,
  GetAccountSummaryCommand,
  GetCredentialReportCommand,
  ListAccessKeysCommand,
  ListUsersCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import type { KeyStatus } from '../core/types.js';
import { AwsError, RekeyError } from '../errors.js';
import { errorCodeOf, mapAwsError } from './errors.js';

/** The read-only IAM calls of the audit. SDK errors come out as AwsError (or NoCredentialsError). */
export interface AuditIamApi {
  /** One page of ListUsers. */
  listUsers(options: { pathPrefix?: string; marker?: string }): Promise<{ users: IamUser[]; marker?: string }>;
  /**
   * GetUser: the user named with `audit --user`, for its ARN (with the path that no other call gives). Only the
   * CLI's audit has it (audit-user.ts, loaded lazily): the organisation's roles allow exactly what its handlers send.
   */
  getUser?(userName: string): Promise<IamUser>;
  listAccessKeys(userName: string): Promise<Array<{ accessKeyId: string; status: KeyStatus; createDate?: Date }>>;
  getAccessKeyLastUsed(accessKeyId: string, userName: string): Promise<{ date?: Date; serviceName?: string; region?: string }>;
  /** AccountAccessKeysPresent of GetAccountSummary: whether the root user has access keys. */
  rootKeysPresent(): Promise<boolean>;
  /** GenerateCredentialReport: STARTED, INPROGRESS or COMPLETE. */
  generateCredentialReport(): Promise<string>;
  /** GetCredentialReport; `undefined` while the report is being generated (ReportInProgress). */
  getCredentialReport(): Promise<{ csv: string; generatedAt?: Date } | undefined>;
}

export interface IamUser {
  userName: string;
  arn: string;
  path: string;
  /** AIDA…: how AWS Config names the user (its resource id). */
  userId?: string;
}

/** The profile's credentials could not be resolved (no profile, an expired SSO session, a failing credential_process…). */
export class NoCredentialsError extends RekeyError {
  constructor(message: string, cause: unknown) {
    super('NO_CREDENTIALS', `Could not get credentials to call IAM: ${message}`, {
      hint: 'Name a profile with credentials: --profile NAME (static keys, role_arn, SSO, credential_process), or set AWS_PROFILE.',
      cause,
    });
  }
}

export function mapAuditError(error: unknown, action: string, subject?: string): RekeyError {
  if (errorCodeOf(error) === 'CredentialsProviderError') return new NoCredentialsError((error as Error).message, error);
  return mapAwsError(error, action, subject);
}

export function createAuditIamApi(client: IAMClient): AuditIamApi {
  return {
    async listUsers({ pathPrefix, marker }) {
      try {
        const out = await client.send(new ListUsersCommand({ MaxItems: 1000, ...(pathPrefix ? { PathPrefix: pathPrefix } : {}), ...(marker ? { Marker: marker } : {}) }));
        const users = (out.Users ?? []).map((u) => ({ userName: u.UserName ?? '', arn: u.Arn ?? '', path: u.Path ?? '/', ...(u.UserId ? { userId: u.UserId } : {}) }));
        return { users, ...(out.IsTruncated && out.Marker ? { marker: out.Marker } : {}) };
      } catch (error) {
        throw mapAuditError(error, 'iam:ListUsers');
      }
    },
    async listAccessKeys(userName) {
      try {
        const out = await client.send(new ListAccessKeysCommand({ UserName: userName }));
        return (out.AccessKeyMetadata ?? []).map((meta) => ({
          accessKeyId: meta.AccessKeyId ?? '',
          status: (meta.Status ?? 'Active') as KeyStatus,
          ...(meta.CreateDate ? { createDate: meta.CreateDate } : {}),
        }));
      } catch (error) {
        throw mapAuditError(error, 'iam:ListAccessKeys', `user ${userName}`);
      }
    },
    async getAccessKeyLastUsed(accessKeyId, userName) {
      try {
        const out = await client.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: accessKeyId }));
        const used = out.AccessKeyLastUsed;
        const known = (value: string | undefined) => (value && value !== 'N/A' ? value : undefined);
        return {
          ...(used?.LastUsedDate ? { date: used.LastUsedDate } : {}),
          ...(known(used?.ServiceName) ? { serviceName: used?.ServiceName } : {}),
          ...(known(used?.Region) ? { region: used?.Region } : {}),
        };
      } catch (error) {
        throw mapAuditError(error, 'iam:GetAccessKeyLastUsed', `key of user ${userName}`);
      }
    },
    async rootKeysPresent() {
      try {
        const out = await client.send(new GetAccountSummaryCommand({}));
        return (out.SummaryMap?.AccountAccessKeysPresent ?? 0) > 0;
      } catch (error) {
        throw mapAuditError(error, 'iam:GetAccountSummary');
      }
    },
    async generateCredentialReport() {
      try {
        const out = await client.send(new GenerateCredentialReportCommand({}));
        return out.State ?? 'COMPLETE';
      } catch (error) {
        throw mapAuditError(error, 'iam:GenerateCredentialReport');
      }
    },
    async getCredentialReport() {
      try {
        const out = await client.send(new GetCredentialReportCommand({}));
        const content = out.Content;
        if (!content) throw new AwsError('AWS_ERROR', 'iam:GetCredentialReport', 'EmptyResponse', 'iam:GetCredentialReport returned no content.');
        // The SDK decodes the base64 <Content> into bytes.
        const csv = typeof content === 'string' ? content : Buffer.from(content).toString('utf8');
        return { csv, ...(out.GeneratedTime ? { generatedAt: out.GeneratedTime } : {}) };
      } catch (error) {
        const code = errorCodeOf(error);
        if (code === 'CredentialReportNotReadyException' || code === 'ReportInProgress') return undefined;
        throw mapAuditError(error, 'iam:GetCredentialReport');
      }
    },
  };
}

