import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { Session } from './session.entity.ts';
import { User } from './user.entity.ts';

/**
 * An account's authenticator-app (TOTP) factor. At most one per account. `confirmedAt` is null while enrolment
 * waits for the first code; only a confirmed row counts as a second factor.
 */
export const UserTotp = defineEntity({
  name: 'UserTotp',
  tableName: 'user_totp',
  properties: {
    id: p.uuid().primary(),
    user: () => p.oneToOne(User).owner().unique().deleteRule('cascade'),
    /**
     * The shared secret, encrypted at rest (AES-256-GCM with a key from configuration, `SECRETS_ENCRYPTION_KEY`):
     * `v1.<iv>.<ciphertext>.<tag>`, base64url. Never the raw seed.
     */
    secretCiphertext: p.text().hidden().lazy(),
    /** The last 30-second step a code was accepted for: a code (and every earlier one) is accepted at most once. */
    lastUsedStep: p.bigint('number').nullable(),
    confirmedAt: p.datetime().nullable(),
    createdAt: p.datetime(),
  },
});
export type UserTotp = InferEntity<typeof UserTotp>;

/** One of an account's single-use recovery codes, shown once; stored as SHA-256 (hex) of the normalised code. */
export const RecoveryCode = defineEntity({
  name: 'RecoveryCode',
  tableName: 'recovery_codes',
  properties: {
    id: p.uuid().primary(),
    user: () => p.manyToOne(User).deleteRule('cascade').index(),
    codeHash: p.string().length(64).unique().hidden(),
    usedAt: p.datetime().nullable(),
    createdAt: p.datetime(),
  },
});
export type RecoveryCode = InferEntity<typeof RecoveryCode>;

/** A WebAuthn credential (passkey) registered to an account: a second factor and a passwordless sign-in. */
export const Passkey = defineEntity({
  name: 'Passkey',
  tableName: 'passkeys',
  properties: {
    id: p.uuid().primary(),
    user: () => p.manyToOne(User).deleteRule('cascade').index(),
    /** The authenticator's credential id, base64url. */
    credentialId: p.string().length(1024).unique(),
    /** COSE public key bytes. */
    publicKey: p.blob(),
    /** Signature counter last seen (0 for authenticators that do not count). */
    counter: p.bigint('number').default(0),
    /** Transports the authenticator reported (usb, nfc, ble, internal, hybrid), as hints for later ceremonies. */
    transports: p.array().nullable(),
    /** 'singleDevice' or 'multiDevice' (synced). */
    deviceType: p.string().length(32),
    backedUp: p.boolean().default(false),
    /** The owner's label for it ("YubiKey 5", "MacBook"). */
    name: p.string().length(100),
    createdAt: p.datetime(),
    lastUsedAt: p.datetime().nullable(),
  },
});
export type Passkey = InferEntity<typeof Passkey>;

export const AUTH_CHALLENGE_PURPOSES = [
  /** After a correct password, the second step of sign-in: the client holds the token, we hold its hash. */
  'sign-in',
  /** A WebAuthn registration ceremony (for a signed-in session). */
  'passkey-registration',
  /** A WebAuthn authentication ceremony: passwordless sign-in, a second factor at sign-in, or a sudo confirmation. */
  'passkey-authentication',
] as const;
export type AuthChallengePurpose = (typeof AUTH_CHALLENGE_PURPOSES)[number];

/**
 * A short-lived, single-use challenge of a multi-step authentication: the sign-in challenge between password and
 * second factor, or a WebAuthn ceremony's random challenge. Looked up by `id` + SHA-256 of its secret.
 */
export const AuthChallenge = defineEntity({
  name: 'AuthChallenge',
  tableName: 'auth_challenges',
  properties: {
    /** The public half of the challenge token. */
    id: p.string().length(32).primary(),
    /** SHA-256 (hex) of the secret half the client holds (null where the ceremony needs none). */
    secretHash: p.string().length(64).nullable().hidden(),
    purpose: p.enum([...AUTH_CHALLENGE_PURPOSES]),
    /** The account this challenge belongs to (null for a passwordless sign-in, where the passkey names it). */
    user: () => p.manyToOne(User).nullable().deleteRule('cascade').index(),
    /** The session that started it (registration and sudo ceremonies). */
    session: () => p.manyToOne(Session).nullable().deleteRule('cascade'),
    /** The WebAuthn challenge (base64url) this ceremony must sign. */
    webauthnChallenge: p.string().length(128).nullable(),
    /** Wrong second-factor answers given against it; the challenge dies after a few. */
    attempts: p.integer().default(0),
    createdAt: p.datetime(),
    expiresAt: p.datetime().index(),
  },
});
export type AuthChallenge = InferEntity<typeof AuthChallenge>;
