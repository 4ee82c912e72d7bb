import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { Organization } from './organization.entity.ts';
import { User } from './user.entity.ts';

export const Session = defineEntity({
  name: 'Session',
  tableName: 'sessions',
  properties: {
    /** The public half of the session token: a random lookup id, useless without the secret. */
    id: p.string().length(32).primary(),
    /** SHA-256 (hex) of the secret half. The raw token is never stored. */
    secretHash: p.string().length(64).hidden(),
    user: () => p.manyToOne(User).deleteRule('cascade').index(),
    activeOrganization: () => p.manyToOne(Organization).nullable().deleteRule('set null'),
    createdAt: p.datetime(),
    lastSeenAt: p.datetime(),
    /**
     * How this sign-in was proven: 'password', 'password+totp', 'password+recovery-code', 'password+passkey' or
     * 'passkey' (a passwordless passkey sign-in with user verification).
     */
    authMethod: p.string().length(32).default('password'),
    /**
     * When the holder last proved who they are (sign-in, or a sudo confirmation since): sensitive actions need this
     * within the last 10 minutes (core `isSudoFresh`).
     */
    verifiedAt: p.datetime().nullable(),
    /** Which method that last proof used ('password', 'totp', 'recovery-code', 'passkey'). */
    verifiedMethod: p.string().length(32).nullable(),
    /** Absolute expiry, fixed at sign-in. */
    expiresAt: p.datetime(),
    ip: p.string().length(64).nullable(),
    userAgent: p.string().length(512).nullable(),
  },
});
export type Session = InferEntity<typeof Session>;
