import { z } from 'zod';

/**
 * What a change that affects verification tells every API node. A service calls `publishInvalidation` once,
 * after its transaction committed, with a cause (for logs) and the cache entries it made stale.
 *
 * Adding a new cause: add its name to `INVALIDATION_CAUSES` and call `publishInvalidation` after the commit with
 * the narrowest targets that cover it (one key, every key of one user, the rate-limit overrides, or everything).
 */
export const INVALIDATION_CAUSES = [
  'account.email_changed',
  /** A second factor was enrolled or removed: the org two-factor policy now lets the user's keys act, or stops them. */
  'account.second_factor_changed',
  'key.revoked',
  'key.rotated',
  'key.updated',
  'key.cut_off',
  'key.allowed_ips_changed',
  'member.added',
  'member.role_changed',
  'member.removed',
  'member.left',
  'org.created',
  'org.updated',
  'org.deleted',
  'org.two_factor_policy_changed',
  'rate-limit.override_changed',
  'session.ended',
  'session_token.refreshed',
  'session_token.revoked',
] as const;
export type InvalidationCause = (typeof INVALIDATION_CAUSES)[number];

export type InvalidationTarget =
  /** One cached credential by id (an API key or a session token): revoked, rotated, renamed, its expiry changed. */
  | { kind: 'key'; keyId: string }
  /** Every credential of a user (keys and session tokens): memberships changed, or a session ended. */
  | { kind: 'user'; userId: string }
  /** The operator-granted rate-limit overrides changed: re-read them now instead of at the next refresh. */
  | { kind: 'rate-limits' }
  /** Drop everything cached (a change too wide to list, or a message that would not fit the channel). */
  | { kind: 'everything' };

export interface Invalidation {
  cause: InvalidationCause;
  targets: InvalidationTarget[];
}

/** On the wire: the invalidation, the node that published it, and heartbeats that prove the channel works. */
export type ChannelMessage =
  | { v: 1; type: 'invalidate'; node: string; cause: InvalidationCause; targets: InvalidationTarget[] }
  | { v: 1; type: 'ping'; node: string; seq: number };

/**
 * PostgreSQL refuses NOTIFY payloads of 8000 bytes or more. A message listing more targets than this (an
 * organization with hundreds of members deleted) is sent as "everything" instead: wider, never narrower.
 */
export const MAX_TARGETS = 100;

const id = z.string().min(1).max(64);
const targetSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('key'), keyId: id }),
  z.object({ kind: z.literal('user'), userId: id }),
  z.object({ kind: z.literal('rate-limits') }),
  z.object({ kind: z.literal('everything') }),
]);
const messageSchema = z.discriminatedUnion('type', [
  z.object({
    v: z.literal(1),
    type: z.literal('invalidate'),
    node: id,
    cause: z.enum(INVALIDATION_CAUSES),
    targets: z.array(targetSchema).max(MAX_TARGETS),
  }),
  z.object({ v: z.literal(1), type: z.literal('ping'), node: id, seq: z.number().int().nonnegative() }),
]);

export function encodeInvalidation(node: string, invalidation: Invalidation): string {
  const targets: InvalidationTarget[] =
    invalidation.targets.length > MAX_TARGETS ? [{ kind: 'everything' }] : invalidation.targets;
  const message: ChannelMessage = { v: 1, type: 'invalidate', node, cause: invalidation.cause, targets };
  return JSON.stringify(message);
}

export function encodePing(node: string, seq: number): string {
  const message: ChannelMessage = { v: 1, type: 'ping', node, seq };
  return JSON.stringify(message);
}

/** Anything on the channel is untrusted input: a message that does not parse is dropped (and logged). */
export function decodeMessage(payload: string): ChannelMessage | null {
  try {
    const parsed = messageSchema.safeParse(JSON.parse(payload));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
