export type KeyStatus = 'Active' | 'Inactive' | 'Expired';

export interface KeyLastUsed {
  date?: Date;
  serviceName?: string;
  region?: string;
}

export interface AccessKeyInfo {
  accessKeyId: string;
  status: KeyStatus;
  createDate?: Date;
  lastUsed?: KeyLastUsed;
}

/** What `sts:GetCallerIdentity` says, with the ARN taken apart. */
export interface CallerIdentity {
  arn: string;
  account: string;
  userId: string;
}

export interface StaticCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}
