import { base62Encode, crc32, isBase62, randomBase62 } from './encoding.ts';
import { sha256Hex } from './secrets.ts';

/**
 * Tokens mailed in links: email verification, invitations and password resets. Same shape as API keys (GitHub's
 * token format): a prefix naming the purpose, 32 base62 characters from a CSPRNG (≈190 bits) and a 6-character
 * base62 CRC-32, so junk and typos are refused offline and a token of one purpose is never accepted for another.
 * Only the SHA-256 is stored (right for a high-entropy secret); each is single use and short-lived.
 */
export const ONE_TIME_TOKEN_KINDS = ['email-verification', 'invitation', 'password-reset'] as const;
export type OneTimeTokenKind = (typeof ONE_TIME_TOKEN_KINDS)[number];

export const ONE_TIME_TOKEN_PREFIXES: Readonly<Record<OneTimeTokenKind, string>> = {
  'email-verification': 'cdv_',
  invitation: 'cdi_',
  'password-reset': 'cdr_',
};

const HOUR_MS = 3_600_000;

/** How long a mailed link works: a day to verify an address, a week to answer an invitation, an hour to reset. */
export const ONE_TIME_TOKEN_LIFETIMES_MS: Readonly<Record<OneTimeTokenKind, number>> = {
  'email-verification': 24 * HOUR_MS,
  invitation: 7 * 24 * HOUR_MS,
  'password-reset': HOUR_MS,
};

export const ONE_TIME_TOKEN_RANDOM_LENGTH = 32;
export const ONE_TIME_TOKEN_CHECKSUM_LENGTH = 6;
/** Every token has this length whatever its kind (all prefixes are four characters). */
export const ONE_TIME_TOKEN_LENGTH = 4 + ONE_TIME_TOKEN_RANDOM_LENGTH + ONE_TIME_TOKEN_CHECKSUM_LENGTH;
export const ONE_TIME_TOKEN_ENTROPY_BITS = Math.floor(ONE_TIME_TOKEN_RANDOM_LENGTH * Math.log2(62));

/** Finds anything shaped like one of these tokens in free text (used to prove none is stored or logged). */
export const ONE_TIME_TOKEN_PATTERN = /cd[vir]_[0-9A-Za-z]{38}/g;

export interface NewOneTimeToken {
  /** The raw token: goes into one email, never stored, never logged. */
  token: string;
  /** SHA-256 (hex): the only form stored, and what the token is looked up by. */
  hash: string;
}

export type ParsedOneTimeToken =
  | { ok: true; token: string }
  | { ok: false; reason: 'prefix' | 'length' | 'alphabet' | 'checksum' };

function checksum(body: string): string {
  return base62Encode(crc32(body), ONE_TIME_TOKEN_CHECKSUM_LENGTH);
}

export function generateOneTimeToken(
  kind: OneTimeTokenKind,
  fill?: (bytes: Uint8Array) => void,
): NewOneTimeToken {
  const body = ONE_TIME_TOKEN_PREFIXES[kind] + randomBase62(ONE_TIME_TOKEN_RANDOM_LENGTH, fill);
  const token = body + checksum(body);
  return { token, hash: hashOneTimeToken(token) };
}

/** Offline check of a candidate for one purpose: prefix, length, alphabet and checksum. No I/O. */
export function parseOneTimeToken(kind: OneTimeTokenKind, candidate: string): ParsedOneTimeToken {
  const prefix = ONE_TIME_TOKEN_PREFIXES[kind];
  if (!candidate.startsWith(prefix)) return { ok: false, reason: 'prefix' };
  if (candidate.length !== ONE_TIME_TOKEN_LENGTH) return { ok: false, reason: 'length' };
  if (!isBase62(candidate.slice(prefix.length))) return { ok: false, reason: 'alphabet' };
  const body = candidate.slice(0, ONE_TIME_TOKEN_LENGTH - ONE_TIME_TOKEN_CHECKSUM_LENGTH);
  // The checksum is a public function of the candidate: comparing it plainly leaks nothing secret.
  if (candidate.slice(body.length) !== checksum(body)) return { ok: false, reason: 'checksum' };
  return { ok: true, token: candidate };
}

export function hashOneTimeToken(token: string): string {
  return sha256Hex(token);
}

export function oneTimeTokenExpiresAt(kind: OneTimeTokenKind, issuedAt: Date): Date {
  return new Date(issuedAt.getTime() + ONE_TIME_TOKEN_LIFETIMES_MS[kind]);
}

export type OneTimeTokenState = 'usable' | 'used' | 'expired';

/** A token works once, and only before its expiry (the expiry instant itself is already too late). */
export function oneTimeTokenState(
  token: { expiresAt: Date; usedAt: Date | null },
  now: Date,
): OneTimeTokenState {
  if (token.usedAt !== null) return 'used';
  if (now.getTime() >= token.expiresAt.getTime()) return 'expired';
  return 'usable';
}
