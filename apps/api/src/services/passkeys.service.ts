import { randomBytes, randomUUID } from 'node:crypto';
import {
  acceptedSudoMethods,
  counterAdvances,
  DomainError,
  hasFreshSecondFactor,
  MAX_PASSKEYS_PER_USER,
  PASSKEY_CEREMONY_TTL_MS,
  type RelyingParty,
  relyingPartyFor,
  type SignInMethod,
  SUDO_WINDOW_MS,
  type VerificationMethod,
} from '@crowdee/core';
import { type AuthChallengePurpose, Passkey, Session, User } from '@crowdee/db';
import {
  ForeignKeyConstraintViolationException,
  LockMode,
  UniqueConstraintViolationException,
} from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import type { AppDeps } from '../app-deps.ts';
import { publishInvalidation } from '../invalidation/index.ts';
import { type Actor, recordAudit } from './audit.service.ts';
import { createSession, deleteSession, type RequestOrigin } from './sessions.service.ts';
import { finishSignIn, loadSignInChallenge, spendSignInAttempt } from './sign-in-challenges.ts';
import { chargeSecondFactorAttempt, enrolledFactors, requireRecentProof } from './two-factor.service.ts';

type Deps = Pick<AppDeps, 'config' | 'appUrl' | 'clock' | 'invalidation'>;

/** The transports WebAuthn names; anything else an authenticator reports is not kept. */
const TRANSPORTS = new Set(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb']);
/** EdDSA, ES256, RS256: what every current authenticator offers (no experimental post-quantum ones). */
const ALGORITHMS = [-8, -7, -257];

/**
 * Who we are to an authenticator (core's rule): WEBAUTHN_RP_ID / WEBAUTHN_ORIGINS, else the settings app's address
 * (PUBLIC_URL or where we listen; never a request's Host header) and the CSRF allowlist.
 */
export function relyingParty(deps: Pick<AppDeps, 'config' | 'appUrl'>): RelyingParty {
  const { webauthn, allowedOrigins } = deps.config;
  return relyingPartyFor({
    appUrl: deps.appUrl(),
    rpName: webauthn.rpName,
    rpId: webauthn.rpId,
    origins: webauthn.origins,
    allowedOrigins,
  });
}

/** The WebAuthn user handle for an account: the 16 bytes of its UUID (no personal data), base64url. */
function userHandle(userId: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.from(userId.replace(/-/g, ''), 'hex'));
}

function handleText(userId: string): string {
  return Buffer.from(userHandle(userId)).toString('base64url');
}

function passkeyInvalid(cause?: unknown, message?: string): DomainError {
  return new DomainError('PASSKEY_INVALID', message, undefined, cause === undefined ? undefined : { cause });
}

/** Opens a ceremony: a single-use row holding the challenge the authenticator must sign, bound as asked. */
async function openCeremony(
  em: EntityManager,
  purpose: Extract<AuthChallengePurpose, 'passkey-registration' | 'passkey-authentication'>,
  challenge: string,
  binding: { userId: string | null; sessionId: string | null },
  now: Date,
): Promise<string> {
  const id = randomBytes(24).toString('base64url');
  // Dead ceremonies and sign-in challenges go on the way: nobody can answer them any more. Rows another request is
  // already sweeping are skipped, so two sweeps never wait on (or deadlock with) each other.
  await em.getConnection().execute(
    `delete from auth_challenges where id in
       (select id from auth_challenges where expires_at <= ? limit 500 for update skip locked)`,
    [now],
  );
  // No secret half: the challenge itself is what the authenticator signs (the entity's typing insists on one).
  try {
    await em.getConnection().execute(
      `insert into auth_challenges (id, purpose, user_id, session_id, webauthn_challenge, attempts, created_at, expires_at)
       values (?, ?, ?, ?, ?, 0, ?, ?)`,
      [
        id,
        purpose,
        binding.userId,
        binding.sessionId,
        challenge,
        now,
        new Date(now.getTime() + PASSKEY_CEREMONY_TTL_MS),
      ],
    );
  } catch (error) {
    // The session (or account) it binds to ended while this request ran (signed out or revoked elsewhere):
    // the caller is no longer signed in — a 401, not a server error.
    // (A raw statement surfaces the driver's error: SQLSTATE 23503 is a foreign-key violation.)
    if (
      error instanceof ForeignKeyConstraintViolationException ||
      (error as { code?: unknown } | null)?.code === '23503'
    )
      throw new DomainError('UNAUTHENTICATED', undefined, undefined, { cause: error });
    throw error;
  }
  return id;
}

/**
 * Spends a ceremony: one statement deletes it if it is live and bound exactly as required, and says which
 * challenge it held. A second answer, another session's or another account's ceremony, or an expired one finds
 * nothing (PASSKEY_INVALID). A mismatched binding leaves the owner's ceremony alive, so nobody can spoil it.
 */
async function spendCeremony(
  em: EntityManager,
  ceremonyId: string,
  purpose: AuthChallengePurpose,
  binding: { userId: string | null; sessionId: string | null },
  now: Date,
): Promise<string> {
  const conditions = ['id = ?', 'purpose = ?', 'expires_at > ?'];
  const params: unknown[] = [ceremonyId, purpose, now];
  if (binding.userId === null) conditions.push('user_id is null');
  else {
    conditions.push('user_id = ?');
    params.push(binding.userId);
  }
  if (binding.sessionId === null) conditions.push('session_id is null');
  else {
    conditions.push('session_id = ?');
    params.push(binding.sessionId);
  }
  const rows = await em
    .getConnection()
    .execute<{ webauthn_challenge: string | null }[]>(
      `delete from auth_challenges where ${conditions.join(' and ')} returning webauthn_challenge`,
      params,
    );
  const challenge = rows[0]?.webauthn_challenge;
  if (!challenge) throw passkeyInvalid();
  return challenge;
}

/* --------------------------------------------------------------------------------------------- registration */

export interface PasskeyOwner {
  userId: string;
  sessionId: string;
  email: string;
  name: string;
}

export async function registrationOptions(
  deps: Deps,
  em: EntityManager,
  owner: PasskeyOwner & { verifiedAt: Date | null },
): Promise<{ ceremonyId: string; options: PublicKeyCredentialCreationOptionsJSON }> {
  await requireRecentProof(em, owner.userId, owner, deps.clock());
  const rp = relyingParty(deps);
  const existing = await em.find(Passkey, { user: owner.userId }, { fields: ['credentialId', 'transports'] });
  if (existing.length >= MAX_PASSKEYS_PER_USER)
    throw new DomainError(
      'VALIDATION_FAILED',
      `An account can have at most ${MAX_PASSKEYS_PER_USER} passkeys: remove one first.`,
    );
  const options = await generateRegistrationOptions({
    rpName: rp.rpName,
    rpID: rp.rpID,
    userID: userHandle(owner.userId),
    userName: owner.email,
    userDisplayName: owner.name,
    attestationType: 'none',
    // The same authenticator twice would be one factor counted twice.
    excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: p.transports ?? [] })),
    // Discoverable when the authenticator can (passwordless sign-in needs it); verified when it can.
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
    supportedAlgorithmIDs: ALGORITHMS,
  });
  const ceremonyId = await openCeremony(
    em,
    'passkey-registration',
    options.challenge,
    { userId: owner.userId, sessionId: owner.sessionId },
    deps.clock(),
  );
  return { ceremonyId, options };
}

export interface PasskeyView {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  deviceType: string;
  backedUp: boolean;
}

function view(p: Passkey): PasskeyView {
  return {
    id: p.id,
    name: p.name,
    createdAt: p.createdAt.toISOString(),
    lastUsedAt: p.lastUsedAt?.toISOString() ?? null,
    deviceType: p.deviceType,
    backedUp: p.backedUp,
  };
}

/** Ends every other session of the account (this one stays), in the caller's transaction. */
async function endOtherSessions(em: EntityManager, userId: string, sessionId: string): Promise<number> {
  return em.nativeDelete(Session, { user: userId, id: { $ne: sessionId } });
}

/**
 * After a passkey is added or removed: the user's other sessions ended, and — the same user-wide invalidation — the
 * cached keys and session tokens that carry "has a second factor" for the org two-factor policy are dropped on
 * every node (the contract in second-factors.ts).
 */
function sessionsEnded(deps: Deps, em: EntityManager, userId: string): Promise<void> {
  return publishInvalidation(deps, em, { cause: 'session.ended', targets: [{ kind: 'user', userId }] });
}

/**
 * Verifies the authenticator's answer to this session's registration ceremony and stores the passkey. Audited;
 * every other session of the account ends (as with any change of how the account signs in).
 */
export async function registerPasskey(
  deps: Deps,
  em: EntityManager,
  actor: Actor,
  owner: PasskeyOwner,
  input: { ceremonyId: string; name: string; response: RegistrationResponseJSON },
): Promise<{ passkey: PasskeyView; endedSessions: number }> {
  const now = deps.clock();
  const challenge = await spendCeremony(
    em,
    input.ceremonyId,
    'passkey-registration',
    { userId: owner.userId, sessionId: owner.sessionId },
    now,
  );
  const rp = relyingParty(deps);
  let info: NonNullable<Awaited<ReturnType<typeof verifyRegistrationResponse>>['registrationInfo']>;
  try {
    const verification = await verifyRegistrationResponse({
      response: input.response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origins,
      expectedRPID: rp.rpID,
      requireUserVerification: false,
      supportedAlgorithmIDs: ALGORITHMS,
    });
    if (!verification.verified) throw new Error('registration not verified');
    info = verification.registrationInfo;
  } catch (error) {
    throw passkeyInvalid(error);
  }
  const { credential } = info;
  try {
    const result = await em.transactional(async (tem) => {
      await tem.findOneOrFail(
        User,
        { id: owner.userId },
        { lockMode: LockMode.PESSIMISTIC_WRITE, fields: ['id'] },
      );
      if ((await tem.count(Passkey, { user: owner.userId })) >= MAX_PASSKEYS_PER_USER)
        throw new DomainError(
          'VALIDATION_FAILED',
          `An account can have at most ${MAX_PASSKEYS_PER_USER} passkeys: remove one first.`,
        );
      const passkey = tem.create(Passkey, {
        id: randomUUID(),
        user: owner.userId,
        credentialId: credential.id,
        publicKey: Buffer.from(credential.publicKey),
        counter: credential.counter,
        transports: credential.transports?.filter((t) => TRANSPORTS.has(t)) ?? null,
        deviceType: info.credentialDeviceType,
        backedUp: info.credentialBackedUp,
        name: input.name,
        createdAt: now,
        lastUsedAt: null,
      });
      const endedSessions = await endOtherSessions(tem, owner.userId, owner.sessionId);
      recordAudit(tem, actor, {
        action: 'auth.passkey_added',
        target: { type: 'passkey', id: passkey.id },
        metadata: { name: input.name, deviceType: info.credentialDeviceType, endedSessions },
        at: now,
      });
      await tem.flush();
      return { passkey: view(passkey), endedSessions };
    });
    await sessionsEnded(deps, em, owner.userId);
    return result;
  } catch (error) {
    // The credential is registered already (to this account or, by a forged answer, to another one).
    if (error instanceof UniqueConstraintViolationException)
      throw passkeyInvalid(error, 'This passkey is registered already.');
    throw error;
  }
}

/* ---------------------------------------------------------------------------------------------- management */

export async function listPasskeys(em: EntityManager, userId: string): Promise<PasskeyView[]> {
  const rows = await em.find(Passkey, { user: userId }, { orderBy: { createdAt: 'asc', id: 'asc' } });
  return rows.map(view);
}

/** Renames one of the caller's passkeys; anyone else's answers NOT_FOUND, exactly like a missing one. */
export async function renamePasskey(
  deps: Deps,
  em: EntityManager,
  actor: Actor,
  userId: string,
  input: { id: string; name: string },
): Promise<PasskeyView> {
  const passkey = await em.findOne(Passkey, { id: input.id, user: userId });
  if (!passkey) throw new DomainError('NOT_FOUND', 'Passkey not found.');
  const previous = passkey.name;
  passkey.name = input.name;
  recordAudit(em, actor, {
    action: 'auth.passkey_renamed',
    target: { type: 'passkey', id: passkey.id },
    metadata: { from: previous, to: input.name },
    at: deps.clock(),
  });
  await em.flush();
  return view(passkey);
}

/**
 * Removes one of the caller's passkeys. Removing the account's last second factor weakens its sign-in, so it
 * needs a second factor proven within the sudo window (REAUTHENTICATION_REQUIRED with the accepted methods
 * otherwise). The account's row is locked, so two removals at once cannot each leave "one more" behind.
 * Audited; every other session ends.
 */
export async function removePasskey(
  deps: Deps,
  em: EntityManager,
  actor: Actor,
  caller: {
    userId: string;
    sessionId: string;
    verifiedAt: Date | null;
    verifiedMethod: VerificationMethod | null;
  },
  id: string,
): Promise<{ endedSessions: number }> {
  const now = deps.clock();
  const result = await em.transactional(async (tem) => {
    await tem.findOneOrFail(
      User,
      { id: caller.userId },
      { lockMode: LockMode.PESSIMISTIC_WRITE, fields: ['id'] },
    );
    const passkey = await tem.findOne(Passkey, { id, user: caller.userId }, { fields: ['id', 'name'] });
    if (!passkey) throw new DomainError('NOT_FOUND', 'Passkey not found.');
    const factors = await enrolledFactors(tem, caller.userId);
    const passkeys = await tem.count(Passkey, { user: caller.userId });
    const last = passkeys === 1 && !factors.includes('totp');
    // Any removal, not only the last factor's: it also signs out every other session, so a session taken with the
    // password alone must not be able to strip the owner's passkeys and throw the owner out (as disabling TOTP).
    if (!hasFreshSecondFactor(caller.verifiedAt, caller.verifiedMethod, now))
      throw new DomainError(
        'REAUTHENTICATION_REQUIRED',
        last
          ? 'This is your last second factor: confirm with it (within the last 10 minutes) before removing it.'
          : 'Confirm with a second factor (within the last 10 minutes) before removing a passkey.',
        { acceptedMethods: acceptedSudoMethods(factors), sudoWindowSeconds: SUDO_WINDOW_MS / 1000 },
      );
    await tem.nativeDelete(Passkey, { id: passkey.id, user: caller.userId });
    const endedSessions = await endOtherSessions(tem, caller.userId, caller.sessionId);
    recordAudit(tem, actor, {
      action: 'auth.passkey_removed',
      target: { type: 'passkey', id: passkey.id },
      metadata: { name: passkey.name, lastSecondFactor: last, endedSessions },
      at: now,
    });
    await tem.flush();
    return { endedSessions };
  });
  await sessionsEnded(deps, em, caller.userId);
  return result;
}

/* ---------------------------------------------------------------------------------------------- assertions */

async function authenticationOptionsFor(
  deps: Deps,
  em: EntityManager,
  userId: string | null,
  userVerification: 'required' | 'preferred',
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const rp = relyingParty(deps);
  const allowCredentials = userId
    ? (await em.find(Passkey, { user: userId }, { fields: ['credentialId', 'transports'] })).map((p) => ({
        id: p.credentialId,
        transports: p.transports ?? [],
      }))
    : undefined;
  if (allowCredentials?.length === 0) throw passkeyInvalid(undefined, 'This account has no passkey.');
  return generateAuthenticationOptions({
    rpID: rp.rpID,
    userVerification,
    ...(allowCredentials ? { allowCredentials } : {}),
  });
}

/**
 * Checks an assertion against the stored passkey it names and moves the passkey's counter on. The counter moves
 * only forward (or stays 0 for authenticators that do not count), in one conditional update: a cloned
 * authenticator, a replayed assertion or a concurrent second use finds nothing to update and is refused, and so
 * is a passkey removed meanwhile.
 */
async function checkAssertion(
  deps: Deps,
  em: EntityManager,
  challenge: string,
  response: AuthenticationResponseJSON,
  expectedUserId: string | null,
  requireUserVerification: boolean,
): Promise<{ passkeyId: string; userId: string }> {
  const passkey = await em.findOne(
    Passkey,
    { credentialId: response.id },
    { fields: ['id', 'user', 'publicKey', 'counter', 'transports'] },
  );
  const ownerId = passkey?.user.id;
  if (!passkey || !ownerId || (expectedUserId !== null && ownerId !== expectedUserId)) throw passkeyInvalid();
  // A discoverable credential names its account too: it must be the passkey's.
  if (response.response.userHandle && response.response.userHandle !== handleText(ownerId))
    throw passkeyInvalid();
  const rp = relyingParty(deps);
  let info: Awaited<ReturnType<typeof verifyAuthenticationResponse>>['authenticationInfo'];
  try {
    const verification = await verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origins,
      expectedRPID: rp.rpID,
      credential: {
        id: response.id,
        publicKey: new Uint8Array(passkey.publicKey),
        counter: passkey.counter,
        transports: passkey.transports ?? [],
      },
      requireUserVerification,
    });
    if (!verification.verified) throw new Error('signature not verified');
    info = verification.authenticationInfo;
  } catch (error) {
    throw passkeyInvalid(error);
  }
  if (!counterAdvances(passkey.counter, info.newCounter)) throw passkeyInvalid();
  // The same rule again, atomically against the row as it is now: of two uses racing with one counter value,
  // only the first moves it.
  const updated = await em.getConnection().execute<{ id: string }[]>(
    `update passkeys set counter = ?, last_used_at = ?, backed_up = ?
      where id = ? and (counter < ? or (counter = 0 and ? = 0)) returning id`,
    [info.newCounter, deps.clock(), info.credentialBackedUp, passkey.id, info.newCounter, info.newCounter],
  );
  if (updated.length === 0) throw passkeyInvalid();
  return { passkeyId: passkey.id, userId: ownerId };
}

/**
 * Options for a sign-in with a passkey. Without a challenge token: passwordless — any discoverable passkey of this
 * site, the user verified on the device. With the token `auth.signIn` answered after a correct password: the
 * second step — one of that account's passkeys (presence is enough; the password was the first factor).
 */
export async function signInOptions(
  deps: Deps,
  em: EntityManager,
  challengeToken?: string,
): Promise<{ ceremonyId: string; options: PublicKeyCredentialRequestOptionsJSON }> {
  const now = deps.clock();
  const userId = challengeToken ? (await loadSignInChallenge(em, challengeToken, now)).userId : null;
  const options = await authenticationOptionsFor(deps, em, userId, userId ? 'preferred' : 'required');
  const ceremonyId = await openCeremony(
    em,
    'passkey-authentication',
    options.challenge,
    { userId, sessionId: null },
    now,
  );
  return { ceremonyId, options };
}

export interface PasskeySignedIn {
  user: { id: string; email: string; name: string; emailVerified: boolean };
  token: string;
  expiresAt: Date;
}

/**
 * Signs in with a passkey. Without a challenge token, passwordless: the passkey names the account, the device
 * verified its user; the session records `passkey`. With one, the second step after a password: the ceremony must
 * be the one opened for that challenge, the passkey that account's; each answer spends one of the challenge's
 * answers and a unit of the account's second-factor budget, and the session records `password+passkey`. The
 * browser's previous session ends; every attempt is audited.
 */
export async function signInWithPasskey(
  deps: AppDeps,
  em: EntityManager,
  input: { ceremonyId: string; response: AuthenticationResponseJSON; challengeToken?: string | undefined },
  origin: RequestOrigin,
  previousSession: { id: string; userId: string } | null,
): Promise<PasskeySignedIn> {
  const now = deps.clock();
  if (input.challengeToken !== undefined)
    return secondStepWithPasskey(deps, em, { ...input, challengeToken: input.challengeToken }, origin, {
      previousSession,
      now,
    });
  let userId: string;
  try {
    const challenge = await spendCeremony(
      em,
      input.ceremonyId,
      'passkey-authentication',
      { userId: null, sessionId: null },
      now,
    );
    ({ userId } = await checkAssertion(deps, em, challenge, input.response, null, true));
  } catch (error) {
    recordAudit(
      em,
      { type: 'anonymous', userId: null, keyId: null, ...origin },
      { action: 'auth.sign_in_failed', target: null, metadata: { method: 'passkey' }, at: now },
    );
    await em.flush();
    throw error;
  }
  return startPasskeySession(deps, em, userId, { method: 'passkey', verifiedMethod: 'passkey' }, origin, {
    previousSession,
    now,
  });
}

async function secondStepWithPasskey(
  deps: AppDeps,
  em: EntityManager,
  input: { ceremonyId: string; response: AuthenticationResponseJSON; challengeToken: string },
  origin: RequestOrigin,
  context: { previousSession: { id: string; userId: string } | null; now: Date },
): Promise<PasskeySignedIn> {
  const { now } = context;
  const { challengeId, userId } = await loadSignInChallenge(em, input.challengeToken, now);
  await spendSignInAttempt(em, challengeId, now);
  await chargeSecondFactorAttempt(deps, userId);
  try {
    const challenge = await spendCeremony(
      em,
      input.ceremonyId,
      'passkey-authentication',
      { userId, sessionId: null },
      now,
    );
    await checkAssertion(deps, em, challenge, input.response, userId, false);
  } catch (error) {
    recordAudit(
      em,
      { type: 'anonymous', userId: null, keyId: null, ...origin },
      {
        action: 'auth.second_factor_failed',
        target: { type: 'user', id: userId },
        metadata: { method: 'passkey', step: 'sign-in' },
        at: now,
      },
    );
    await em.flush();
    throw error;
  }
  return finishSignIn(
    deps,
    em,
    { challengeId, userId, method: 'password+passkey', verifiedMethod: 'passkey' },
    origin,
    context.previousSession,
  );
}

async function startPasskeySession(
  deps: AppDeps,
  em: EntityManager,
  userId: string,
  proof: { method: SignInMethod; verifiedMethod: VerificationMethod },
  origin: RequestOrigin,
  context: { previousSession: { id: string; userId: string } | null; now: Date },
): Promise<PasskeySignedIn> {
  const user = await em.findOneOrFail(
    User,
    { id: userId },
    { fields: ['id', 'email', 'name', 'emailVerifiedAt'] },
  );
  if (context.previousSession)
    await deleteSession(em, deps, context.previousSession.userId, context.previousSession.id);
  const session = await createSession(em, user.id, origin, context.now, deps.config.sessions, proof);
  recordAudit(
    em,
    { type: 'user', userId: user.id, keyId: null, ...origin },
    {
      action: 'auth.sign_in',
      target: { type: 'session', id: session.id },
      metadata: { method: proof.method },
      at: context.now,
    },
  );
  await em.flush();
  return {
    user: { id: user.id, email: user.email, name: user.name, emailVerified: user.emailVerifiedAt != null },
    token: session.token,
    expiresAt: session.expiresAt,
  };
}

/* ---------------------------------------------------------------------------------------------------- sudo */

/** Options to confirm this session's user with one of their passkeys (for `auth.confirmSudo({ passkey })`). */
export async function sudoOptions(
  deps: Deps,
  em: EntityManager,
  caller: { userId: string; sessionId: string },
): Promise<{ ceremonyId: string; options: PublicKeyCredentialRequestOptionsJSON }> {
  // A sudo confirmation stands in for the password: the device must verify its user (biometric or PIN), as for a
  // passwordless sign-in — mere presence (a touch) would let anyone at an unlocked machine with a key plugged in.
  const options = await authenticationOptionsFor(deps, em, caller.userId, 'required');
  const ceremonyId = await openCeremony(
    em,
    'passkey-authentication',
    options.challenge,
    { userId: caller.userId, sessionId: caller.sessionId },
    deps.clock(),
  );
  return { ceremonyId, options };
}

/**
 * Verifies an answer to a ceremony from `sudoOptions`: the ceremony must be this session's, the passkey this
 * user's. Throws PASSKEY_INVALID otherwise. The caller records the confirmation (SUDO's `auth.confirmSudo`).
 */
export async function verifyPasskeyForUser(
  deps: Deps,
  em: EntityManager,
  input: { ceremonyId: string; response: AuthenticationResponseJSON; userId: string; sessionId: string },
  now: Date,
): Promise<{ passkeyId: string }> {
  const challenge = await spendCeremony(
    em,
    input.ceremonyId,
    'passkey-authentication',
    { userId: input.userId, sessionId: input.sessionId },
    now,
  );
  const { passkeyId } = await checkAssertion(deps, em, challenge, input.response, input.userId, true);
  return { passkeyId };
}
