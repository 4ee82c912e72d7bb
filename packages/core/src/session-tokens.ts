import { generateChecksummed, type NewKey, type ParsedKey, parseChecksummed } from './keys.ts';

/**
 * Session tokens (`auth.createSessionToken`): short-lived bearer tokens bound to one sign-in, for a first-party
 * service that sits behind a user's browser session. Same shape as API keys (178 random bits, CRC-32 checksum) with
 * their own prefix, so scanners and the offline check tell them apart; only their SHA-256 is stored.
 *
 * Not to be confused with the browser's session cookie token (`generateSessionToken` in sessions.ts).
 */
export const SESSION_TOKEN_PREFIX = 'cds_';

export const SESSION_TOKEN_DEFAULT_TTL_SECONDS = 15 * 60;
export const SESSION_TOKEN_MIN_TTL_SECONDS = 60;
export const SESSION_TOKEN_MAX_TTL_SECONDS = 60 * 60;

export function generateSessionBoundToken(fill?: (bytes: Uint8Array) => void): NewKey {
  return generateChecksummed(SESSION_TOKEN_PREFIX, fill);
}

export function parseSessionBoundToken(candidate: string): ParsedKey {
  return parseChecksummed(SESSION_TOKEN_PREFIX, candidate);
}

/** Which kind of bearer credential a presented secret claims to be, by prefix alone (no I/O, nothing verified). */
export type BearerKind = 'key' | 'session-token';

export function bearerKind(candidate: string): BearerKind {
  return candidate.startsWith(SESSION_TOKEN_PREFIX) ? 'session-token' : 'key';
}

/**
 * When a session token made (or refreshed) at `now` stops: after its TTL, and never after the session it is bound
 * to ends. The TTL is clamped to [1 min, 1 h]; omitted, it is 15 minutes.
 */
export function sessionTokenExpiry(now: Date, sessionExpiresAt: Date, ttlSeconds?: number): Date {
  const ttl = Math.min(
    SESSION_TOKEN_MAX_TTL_SECONDS,
    Math.max(SESSION_TOKEN_MIN_TTL_SECONDS, Math.floor(ttlSeconds ?? SESSION_TOKEN_DEFAULT_TTL_SECONDS)),
  );
  return new Date(Math.min(now.getTime() + ttl * 1000, sessionExpiresAt.getTime()));
}

export type SessionTokenState = 'valid' | 'expired' | 'session-ended';

/**
 * A session token's state right now. The session's own idle deadline counts too: a token never outlives the
 * sign-in it is bound to, however it ends (expiry, idle timeout, sign-out and revocation delete the row).
 */
export function sessionTokenState(
  token: { expiresAt: Date; sessionExpiresAt: Date; sessionIdleDeadline: Date },
  now: Date,
): SessionTokenState {
  const t = now.getTime();
  if (t >= token.sessionExpiresAt.getTime() || t >= token.sessionIdleDeadline.getTime())
    return 'session-ended';
  if (t >= token.expiresAt.getTime()) return 'expired';
  return 'valid';
}
