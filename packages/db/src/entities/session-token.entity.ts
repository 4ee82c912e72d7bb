import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { Session } from './session.entity.ts';
import { User } from './user.entity.ts';

/**
 * A short-lived bearer token bound to one sign-in (`auth.createSessionToken`). Deleting the session (sign-out,
 * revocation, password change) deletes its tokens with it: a token never outlives the sign-in it came from.
 */
export const SessionToken = defineEntity({
  name: 'SessionToken',
  tableName: 'session_tokens',
  properties: {
    id: p.uuid().primary(),
    /** SHA-256 (hex) of the full token: the only form stored, and what tokens are looked up by. */
    hash: p.string().length(64).unique().hidden(),
    hint: p.string().length(16),
    /** Which service the token was made for, as its requester named it (shown in the sessions list and audit). */
    audience: p.string().length(100),
    session: () => p.manyToOne(Session).deleteRule('cascade').index(),
    user: () => p.manyToOne(User).deleteRule('cascade'),
    createdAt: p.datetime(),
    expiresAt: p.datetime(),
    lastUsedAt: p.datetime().nullable(),
  },
});
export type SessionToken = InferEntity<typeof SessionToken>;
