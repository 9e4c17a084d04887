export { rotateProfile } from './flows/rotate-profile.js';
export type { MfaOptions, RotateDeps, RotateOptions, RotateResult } from './flows/rotate-profile.js';
export { recoverProfile } from './flows/recover.js';
export type { RecoverOptions, RecoverOutcome, RecoverResult } from './flows/recover.js';
export { listKeys } from './flows/keys.js';
export { pruneKeys } from './flows/prune.js';
export type { PruneOptions, PruneResult, PrunedKey } from './flows/prune.js';
export type { ListedKey, ListKeysOptions, ListKeysResult } from './flows/keys.js';
export { rotateUser } from './flows/rotate-user.js';
export type { RotateUserDeps, RotateUserOptions, RotateUserResult } from './flows/rotate-user.js';
export { createStageForProfile, deleteStage, retireStage, rollbackStaged } from './flows/staged.js';
export type { RollbackOptions, StageDeps, StageOptions, StageResult } from './flows/staged.js';
export { rotationStatus } from './flows/status.js';
export type { StagedSummary, StatusEntry, StatusResult } from './flows/status.js';
export { rotateMany } from './flows/rotate-many.js';
export type { ManyEntry, RotateManyDeps, RotateManyOptions, RotateManyResult } from './flows/rotate-many.js';
export type { DestinationSpec } from './core/destination.js';
export type { AgeGate, NotDue } from './core/due.js';
export type { Destination, StagedRotation } from './credentials/staged-store.js';
export { auditAccount } from './flows/audit.js';
export type { AuditDeps, AuditOptions, AuditProgress, AuditResult, AuditSourceOption } from './flows/audit.js';
export type { AuditIamApi } from './aws/audit-api.js';
export { DEFAULT_THRESHOLDS, ROOT_USER_NAME, auditKeys } from './core/audit.js';
export type { AuditedKey, AuditInventory, AuditKeyRecord, AuditReport, AuditSource, AuditThresholds, Finding, FindingKind } from './core/audit.js';
export { CredentialReportFormatError, parseCredentialReport } from './core/credential-report.js';
export type { CredentialReportRow } from './core/credential-report.js';
export { buildPolicy } from './core/policy.js';
export type { PolicyDocument, PolicyOptions, PolicyStatement } from './core/policy.js';
export { describePlan, planRotation } from './core/plan.js';
export type { PlanOptions, PlanStep, RetireAction, RotationPlan } from './core/plan.js';
export type { AccessKeyInfo, CallerIdentity, KeyStatus, StaticCredentials } from './core/types.js';
export { maskKeyId } from './core/mask.js';
export { parsePrincipalArn } from './core/arn.js';
export { findProfilesWithKey, getConfigProfile, getProfile, listProfiles, parseIni, serializeIni } from './credentials/ini.js';
export type {
  IniBlankLine,
  IniCommentLine,
  IniContinuationLine,
  IniDocument,
  IniFileKind,
  IniKeyLine,
  IniLine,
  IniSectionLine,
  LineEnding,
} from './credentials/ini.js';
export { removeProfileKeys, replaceAccessKey, setProfileValues } from './credentials/ini-edit.js';
export type { ReplaceAccessKeyResult } from './credentials/ini-edit.js';
export {
  checkWritable,
  readCredentialsFile,
  resolveConfigPath,
  resolveCredentialsPath,
  withFileLock,
} from './credentials/store.js';
export { writeCredentialsFileAtomic } from './credentials/atomic-replace.js';
export {
  AbortedError,
  AwsError,
  CredentialsFileError,
  ExitCode,
  InterruptedError,
  ProfileError,
  RekeyError,
  RotationIncompleteError,
  UnsafeRotationError,
  UsageError,
  isRekeyError,
} from './errors.js';
export type { Prompter, Reporter, StepRecord, StepStatus } from './rotation/ports.js';
export type { RunDeps } from './rotation/runtime.js';
export type { Timing } from './rotation/timing.js';
export type { Delivery, DeliveryReceipt, KeyPair, SecretOutput } from './rotation/delivery.js';
export type { VerifyOptions } from './rotation/verify.js';
