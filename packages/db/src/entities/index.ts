import { AccountToken } from './account-token.entity.ts';
import { ApiKey } from './api-key.entity.ts';
import { ApiKeyOrgAccess } from './api-key-org-access.entity.ts';
import { ApiKeyRecentIp } from './api-key-recent-ip.entity.ts';
import { AuditEvent } from './audit-event.entity.ts';
import { Dataset } from './dataset.entity.ts';
import { DatasetItem } from './dataset-item.entity.ts';
import { IdempotencyRecord } from './idempotency-record.entity.ts';
import { Invitation } from './invitation.entity.ts';
import { LimitRequest } from './limit-request.entity.ts';
import { Membership } from './membership.entity.ts';
import { Organization } from './organization.entity.ts';
import { Project } from './project.entity.ts';
import { RateLimitOverride } from './rate-limit-override.entity.ts';
import { Session } from './session.entity.ts';
import { SessionToken } from './session-token.entity.ts';
import { AuthChallenge, Passkey, RecoveryCode, UserTotp } from './two-factor.entity.ts';
import { UsageHourly } from './usage-hourly.entity.ts';
import { User } from './user.entity.ts';
import { VerificationResult, VerificationRun } from './verification-run.entity.ts';

export * from './account-token.entity.ts';
export * from './api-key.entity.ts';
export * from './api-key-org-access.entity.ts';
export * from './api-key-recent-ip.entity.ts';
export * from './audit-event.entity.ts';
export * from './dataset.entity.ts';
export * from './dataset-item.entity.ts';
export * from './idempotency-record.entity.ts';
export * from './invitation.entity.ts';
export * from './limit-request.entity.ts';
export * from './membership.entity.ts';
export * from './organization.entity.ts';
export * from './project.entity.ts';
export * from './rate-limit-override.entity.ts';
export * from './session.entity.ts';
export * from './session-token.entity.ts';
export * from './two-factor.entity.ts';
export * from './usage-hourly.entity.ts';
export * from './user.entity.ts';
export * from './verification-run.entity.ts';

/** Listed explicitly: no folder discovery, no reflection. */
export const entities = [
  User,
  Organization,
  Membership,
  Session,
  SessionToken,
  ApiKey,
  ApiKeyOrgAccess,
  AuditEvent,
  RateLimitOverride,
  Project,
  AccountToken,
  Invitation,
  Dataset,
  DatasetItem,
  IdempotencyRecord,
  UsageHourly,
  ApiKeyRecentIp,
  LimitRequest,
  VerificationRun,
  VerificationResult,
  UserTotp,
  RecoveryCode,
  Passkey,
  AuthChallenge,
];
