import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { User } from './user.entity.ts';

export const ACCOUNT_TOKEN_PURPOSES = ['email-verification', 'password-reset'] as const;
export type AccountTokenPurpose = (typeof ACCOUNT_TOKEN_PURPOSES)[number];

/** A mailed, single-use link for one account: verify an address (at sign-up or on a change) or reset a password. */
export const AccountToken = defineEntity({
  name: 'AccountToken',
  tableName: 'account_tokens',
  properties: {
    id: p.uuid().primary(),
    purpose: p.enum([...ACCOUNT_TOKEN_PURPOSES]),
    user: () => p.manyToOne(User).deleteRule('cascade').index(),
    /** The address the link was sent to: for a verification, the one that becomes verified (and current) on use. */
    email: p.string().length(254),
    /** SHA-256 (hex) of the token: the raw token exists only in the email. */
    tokenHash: p.string().length(64).unique().hidden(),
    expiresAt: p.datetime(),
    usedAt: p.datetime().nullable(),
    createdAt: p.datetime(),
  },
});
export type AccountToken = InferEntity<typeof AccountToken>;
