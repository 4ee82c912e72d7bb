import { constantTimeEqual, sha256Hex } from './secrets.ts';

/**
 * Session token = `<id>.<secret>`. The id (120 random bits) is the lookup key; the secret (256 random bits) is
 * stored only as its SHA-256 and compared in constant time, so neither a database read nor a timing side channel
 * on the index lookup yields a usable token.
 */
const ID_BYTES = 15;
const SECRET_BYTES = 32;
const TOKEN_RE = /^([A-Za-z0-9_-]{20})\.([A-Za-z0-9_-]{43})$/;

export interface NewSessionToken {
  token: string;
  id: string;
  secretHash: string;
}

function randomBase64Url(bytes: number): string {
  const buf = new Uint8Array(bytes);
  globalThis.crypto.getRandomValues(buf);
  return Buffer.from(buf).toString('base64url');
}

export function generateSessionToken(): NewSessionToken {
  const id = randomBase64Url(ID_BYTES);
  const secret = randomBase64Url(SECRET_BYTES);
  return { token: `${id}.${secret}`, id, secretHash: sha256Hex(secret) };
}

export function parseSessionToken(token: string): { id: string; secret: string } | null {
  const match = TOKEN_RE.exec(token);
  if (!match?.[1] || !match[2]) return null;
  return { id: match[1], secret: match[2] };
}

export function verifySessionSecret(secret: string, storedHash: string): boolean {
  return constantTimeEqual(sha256Hex(secret), storedHash);
}

export interface SessionTimeouts {
  /** Absolute lifetime from sign-in. */
  absoluteMs: number;
  /** Maximum time between two requests. */
  idleMs: number;
}

export const DEFAULT_SESSION_TIMEOUTS: SessionTimeouts = {
  absoluteMs: 7 * 24 * 3600 * 1000,
  idleMs: 24 * 3600 * 1000,
};

/** How often `lastSeenAt` is written: once a minute at most, never a write per request. */
export const SESSION_TOUCH_INTERVAL_MS = 60_000;

export type SessionState = 'valid' | 'idle-expired' | 'expired';

export function sessionState(
  session: { expiresAt: Date; lastSeenAt: Date },
  now: Date,
  timeouts: Pick<SessionTimeouts, 'idleMs'>,
): SessionState {
  if (now.getTime() >= session.expiresAt.getTime()) return 'expired';
  if (now.getTime() - session.lastSeenAt.getTime() >= timeouts.idleMs) return 'idle-expired';
  return 'valid';
}

export function shouldTouchSession(lastSeenAt: Date, now: Date): boolean {
  return now.getTime() - lastSeenAt.getTime() >= SESSION_TOUCH_INTERVAL_MS;
}

export function sessionExpiresAt(createdAt: Date, timeouts: Pick<SessionTimeouts, 'absoluteMs'>): Date {
  return new Date(createdAt.getTime() + timeouts.absoluteMs);
}
