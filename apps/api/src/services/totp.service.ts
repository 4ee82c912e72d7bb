import { randomUUID } from 'node:crypto';
import {
  DomainError,
  generateRecoveryCodes,
  generateTotpSecret,
  openSecret,
  recoveryCodeHash,
  sealSecret,
  totpUri,
  verifyTotpCode,
} from '@crowdee/core';
import { RecoveryCode, Session, User, UserTotp } from '@crowdee/db';
import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { toDataURL } from 'qrcode';
import type { AppDeps } from '../app-deps.ts';
import { publishInvalidation } from '../invalidation/index.ts';
import { type Actor, type AuditAction, recordAudit } from './audit.service.ts';
import type { ActiveSession, SessionUser } from './sessions.service.ts';
import {
  chargeSecondFactorAttempt,
  requireFreshSecondFactor,
  requireRecentProof,
  totpSealContext,
} from './two-factor.service.ts';

/** The name authenticator apps show above the account's codes. */
export const TOTP_ISSUER = 'Crowdee';

export interface TotpStatus {
  /** A confirmed authenticator app: sign-in asks for its code. */
  enabled: boolean;
  /** A set-up was started and waits for its first code. */
  pending: boolean;
  confirmedAt: string | null;
  /** Unused recovery codes left. */
  recoveryCodesRemaining: number;
}

export async function totpStatus(em: EntityManager, userId: string): Promise<TotpStatus> {
  const row = await em.findOne(UserTotp, { user: userId }, { fields: ['confirmedAt'] });
  const remaining = row?.confirmedAt ? await em.count(RecoveryCode, { user: userId, usedAt: null }) : 0;
  return {
    enabled: row?.confirmedAt != null,
    pending: row != null && row.confirmedAt == null,
    confirmedAt: row?.confirmedAt?.toISOString() ?? null,
    recoveryCodesRemaining: remaining,
  };
}

/**
 * Starts setting up an authenticator app: a new secret, stored sealed (AES-256-GCM, SECRETS_ENCRYPTION_KEY), shown
 * this once as a QR code and for manual entry. Nothing changes for sign-in until a code confirms it; starting
 * again replaces an unconfirmed secret. CONFLICT while one is already on (turn it off first).
 */
export async function beginTotpEnrolment(
  deps: AppDeps,
  em: EntityManager,
  user: SessionUser,
  session: Pick<ActiveSession, 'verifiedAt'>,
): Promise<{ secret: string; otpauthUri: string; qrCodeDataUrl: string }> {
  const now = deps.clock();
  await requireRecentProof(em, user.id, session, now);
  const existing = await em.findOne(UserTotp, { user: user.id }, { fields: ['confirmedAt'] });
  if (existing?.confirmedAt)
    throw new DomainError(
      'CONFLICT',
      'An authenticator app is already set up: turn it off first to set up another.',
    );
  const secret = generateTotpSecret();
  const secretCiphertext = sealSecret(secret, deps.secretsKey, totpSealContext(user.id));
  await em.transactional(async (tem) => {
    // Only an unconfirmed row can be replaced: a confirmed one that appeared meanwhile makes the insert conflict.
    await tem.nativeDelete(UserTotp, { user: user.id, confirmedAt: null });
    tem.create(UserTotp, {
      id: randomUUID(),
      user: user.id,
      secretCiphertext,
      lastUsedStep: null,
      confirmedAt: null,
      createdAt: now,
    });
    await tem.flush();
  });
  const otpauthUri = totpUri(secret, TOTP_ISSUER, user.email);
  const qrCodeDataUrl = await toDataURL(otpauthUri, { errorCorrectionLevel: 'M', margin: 2, width: 240 });
  return { secret, otpauthUri, qrCodeDataUrl };
}

/** Ten fresh recovery codes for the account (the old ones die): returns them in the clear this once. */
async function replaceRecoveryCodes(tem: EntityManager, userId: string, now: Date): Promise<string[]> {
  await tem.nativeDelete(RecoveryCode, { user: userId });
  const codes = generateRecoveryCodes();
  for (const code of codes)
    tem.create(RecoveryCode, {
      id: randomUUID(),
      user: userId,
      codeHash: recoveryCodeHash(code) ?? '',
      usedAt: null,
      createdAt: now,
    });
  return codes;
}

/**
 * A factor change in one transaction: `change` does its part, every other session of the account ends (this one
 * stays), the event is audited; after the commit every node forgets the ended sessions' tokens.
 */
async function factorChange<T>(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor,
  session: ActiveSession,
  action: AuditAction,
  change: (tem: EntityManager, now: Date) => Promise<T>,
): Promise<T & { endedSessions: number }> {
  const now = deps.clock();
  const result = await em.transactional(async (tem) => {
    // The user's row lock, as every factor change and the password sign-in's factor check take it (see signIn).
    await tem.findOneOrFail(
      User,
      { id: session.userId },
      { lockMode: LockMode.PESSIMISTIC_WRITE, fields: ['id'] },
    );
    const out = await change(tem, now);
    const endedSessions = await tem.nativeDelete(Session, { user: session.userId, id: { $ne: session.id } });
    recordAudit(tem, actor, {
      action,
      target: { type: 'user', id: session.userId },
      metadata: { endedSessions },
      at: now,
    });
    await tem.flush();
    return { ...out, endedSessions };
  });
  await publishInvalidation(deps, em, {
    cause: 'session.ended',
    targets: [{ kind: 'user', userId: session.userId }],
  });
  return result;
}

/**
 * Confirms the set-up with a code from the app (±1 step; it counts as used): the app becomes a second factor, ten
 * recovery codes are made and returned this once, other sessions end, and this session counts as verified with
 * the app as of its last proof of identity (the sudo window is not moved: see below). NOT_FOUND without a set-up
 * in progress; SECOND_FACTOR_INVALID for a wrong code.
 */
export async function confirmTotpEnrolment(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor,
  session: ActiveSession,
  code: string,
): Promise<{ recoveryCodes: string[]; endedSessions: number }> {
  const userId = session.userId;
  const pending = await em.findOne(
    UserTotp,
    { user: userId, confirmedAt: null },
    { fields: ['id', 'secretCiphertext'] },
  );
  if (!pending)
    throw new DomainError('NOT_FOUND', 'No authenticator app is being set up: start the set-up again.');
  await chargeSecondFactorAttempt(deps, userId);
  const secret = openSecret(pending.secretCiphertext.$, deps.secretsKey, totpSealContext(userId));
  const step = verifyTotpCode(secret, code, deps.clock(), null);
  if (step === null) throw new DomainError('SECOND_FACTOR_INVALID');
  return factorChange(deps, em, actor, session, 'auth.totp_enabled', async (tem, now) => {
    const confirmed = await tem.nativeUpdate(
      UserTotp,
      { id: pending.id, confirmedAt: null },
      { confirmedAt: now, lastUsedStep: step },
    );
    if (confirmed !== 1)
      throw new DomainError('NOT_FOUND', 'No authenticator app is being set up: start the set-up again.');
    const recoveryCodes = await replaceRecoveryCodes(tem, userId, now);
    // The app now answers for this session, but from the session's last proof of identity on: entering a code of a
    // seed this session was just shown proves only that its holder set the app up, not who they are, so it must
    // not open (or extend) the sudo window — a stolen session long past its sign-in would mint keys otherwise.
    await tem.nativeUpdate(Session, { id: session.id }, { verifiedMethod: 'totp' });
    return { recoveryCodes };
  });
}

async function requireConfirmedTotp(em: EntityManager, userId: string): Promise<void> {
  const confirmed = await em.count(UserTotp, { user: userId, confirmedAt: { $ne: null } });
  if (confirmed === 0) throw new DomainError('NOT_FOUND', 'No authenticator app is set up.');
}

/** New recovery codes (the old ones stop working). Needs a fresh second factor in this session. */
export async function regenerateRecoveryCodes(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor,
  session: ActiveSession,
): Promise<{ recoveryCodes: string[]; endedSessions: number }> {
  await requireConfirmedTotp(em, session.userId);
  await requireFreshSecondFactor(em, session.userId, session, deps.clock());
  return factorChange(deps, em, actor, session, 'auth.recovery_codes_regenerated', async (tem, now) => ({
    recoveryCodes: await replaceRecoveryCodes(tem, session.userId, now),
  }));
}

/**
 * Turns the authenticator app off (its recovery codes go with it). A set-up never confirmed is simply dropped;
 * a confirmed app needs a fresh second factor in this session (403 REAUTHENTICATION_REQUIRED otherwise).
 */
export async function disableTotp(
  deps: AppDeps,
  em: EntityManager,
  actor: Actor,
  session: ActiveSession,
): Promise<{ endedSessions: number }> {
  const row = await em.findOne(UserTotp, { user: session.userId }, { fields: ['confirmedAt'] });
  if (!row) throw new DomainError('NOT_FOUND', 'No authenticator app is set up.');
  if (!row.confirmedAt) {
    await em.nativeDelete(UserTotp, { user: session.userId, confirmedAt: null });
    return { endedSessions: 0 };
  }
  await requireFreshSecondFactor(em, session.userId, session, deps.clock());
  return factorChange(deps, em, actor, session, 'auth.totp_disabled', async (tem) => {
    await tem.nativeDelete(RecoveryCode, { user: session.userId });
    await tem.nativeDelete(UserTotp, { user: session.userId });
    return {};
  });
}
