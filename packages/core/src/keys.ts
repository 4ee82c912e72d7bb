import { hash } from 'node:crypto';
import { base62Encode, crc32, isBase62, randomBase62 } from './encoding.ts';

/**
 * API key format: `cdk_` + 30 base62 characters from a CSPRNG (30 × log2(62) ≈ 178.6 bits) + a 6-character base62
 * CRC-32 of everything before it. The prefix lets secret scanners find leaked keys; the checksum lets us reject
 * typos and junk offline, without a database lookup. Every key has the same length.
 */
export const KEY_PREFIX = 'cdk_';
export const KEY_RANDOM_LENGTH = 30;
export const KEY_CHECKSUM_LENGTH = 6;
export const KEY_LENGTH = KEY_PREFIX.length + KEY_RANDOM_LENGTH + KEY_CHECKSUM_LENGTH;
export const KEY_ENTROPY_BITS = Math.floor(KEY_RANDOM_LENGTH * Math.log2(62));

export type ParsedKey =
  | { ok: true; key: string }
  | { ok: false; reason: 'prefix' | 'length' | 'alphabet' | 'checksum' };

export interface NewKey {
  /** The full secret: shown to its creator once, never stored. */
  key: string;
  /** SHA-256 (hex) of the key: the only form we store and look up by. */
  hash: string;
  /** What lists show: enough to recognise a key, far too little to use it. */
  hint: string;
}

export function keyChecksum(body: string): string {
  return base62Encode(crc32(body), KEY_CHECKSUM_LENGTH);
}

/**
 * A checksummed bearer secret with the given 4-character prefix: `prefix` + 30 random base62 + 6-character CRC-32.
 * API keys use `cdk_`; other bearer tokens (session tokens, `cds_`) share the shape with their own prefix, so
 * scanners and our offline check tell them apart by prefix alone.
 */
export function generateChecksummed(prefix: string, fill?: (bytes: Uint8Array) => void): NewKey {
  const body = prefix + randomBase62(KEY_RANDOM_LENGTH, fill);
  const key = body + keyChecksum(body);
  return { key, hash: hashKey(key), hint: keyHint(key) };
}

/** Offline validation of a `prefix`-shaped secret: prefix, length, alphabet and checksum. No I/O. */
export function parseChecksummed(prefix: string, candidate: string): ParsedKey {
  const length = prefix.length + KEY_RANDOM_LENGTH + KEY_CHECKSUM_LENGTH;
  if (!candidate.startsWith(prefix)) return { ok: false, reason: 'prefix' };
  if (candidate.length !== length) return { ok: false, reason: 'length' };
  const rest = candidate.slice(prefix.length);
  if (!isBase62(rest)) return { ok: false, reason: 'alphabet' };
  const body = candidate.slice(0, length - KEY_CHECKSUM_LENGTH);
  const checksum = candidate.slice(length - KEY_CHECKSUM_LENGTH);
  // A plain comparison is safe here: the checksum is a public function of the candidate itself, so timing can
  // only tell a caller what they can compute on their own. Secrets (hashes) are compared in constant time.
  if (checksum !== keyChecksum(body)) return { ok: false, reason: 'checksum' };
  return { ok: true, key: candidate };
}

export function generateKey(fill?: (bytes: Uint8Array) => void): NewKey {
  return generateChecksummed(KEY_PREFIX, fill);
}

/** Offline validation: prefix, length, alphabet and checksum. Costs no I/O, so junk never reaches the database. */
export function parseKey(candidate: string): ParsedKey {
  return parseChecksummed(KEY_PREFIX, candidate);
}

/** SHA-256 is right for a 178-bit random secret: a slow hash on every request would only be a self-inflicted DoS. */
export function hashKey(key: string): string {
  // One-shot: no Hash object per call (this runs on every key-authenticated request). Strings hash as UTF-8.
  return hash('sha256', key, 'hex');
}

/** `cdk_AbCd…wxyz`: 4 random characters and the last 4 (checksum) characters. */
export function keyHint(key: string): string {
  return `${key.slice(0, KEY_PREFIX.length + 4)}…${key.slice(-4)}`;
}

/** Finds things that look like our keys in free text (e.g. a pasted leak report or a log line). */
export const KEY_PATTERN = /cdk_[0-9A-Za-z]{36}/g;

/** Any of our bearer secrets (API keys `cdk_`, session tokens `cds_`): what scanners look for and logs must never carry. */
const BEARER_SECRET_PATTERN = /cd[ks]_[0-9A-Za-z]{36}/g;

/** Which kind of bearer secret a found one is: an API key (`cdk_`) or a session token (`cds_`, short-lived). */
export type FoundSecretKind = 'key' | 'session-token';

/** A real key or session token found in text: its checksum holds, so it is ours (a random look-alike passes 1 in 2^32). */
export interface FoundKey {
  key: string;
  kind: FoundSecretKind;
  /** Offset of the key's first character in the text (UTF-16 code units, as JavaScript strings count). */
  index: number;
  /** 1-based line and column of that character; lines end at \n (a \r before it is part of the line). */
  line: number;
  column: number;
}

/**
 * Every Crowdee API key and session token in `text`, validated offline: the shape (prefix, 36 base62 characters)
 * finds candidates and the CRC-32 checksum keeps only real ones, so scanners report no random look-alikes. No word
 * boundary is required around a secret: checksums make that unnecessary, and secrets glued to an escape (`\ncdk_…`)
 * or a URL are still found. Session tokens live an hour at most, but a leaked one acts for its user until then.
 */
export function findKeys(text: string): FoundKey[] {
  const found: FoundKey[] = [];
  const candidates = new RegExp(BEARER_SECRET_PATTERN.source, 'g');
  let line = 1;
  let lineStart = 0;
  let counted = 0;
  for (let match = candidates.exec(text); match !== null; match = candidates.exec(text)) {
    const index = match.index;
    const candidate = match[0];
    // The prefix is `cdk_` or `cds_` by the pattern; the checksum covers it, so one can't pass for the other.
    if (!parseChecksummed(candidate.slice(0, KEY_PREFIX.length), candidate).ok) {
      // A look-alike may hide the start of a real key inside it: look again from the next character.
      candidates.lastIndex = index + 1;
      continue;
    }
    for (let at = text.indexOf('\n', counted); at !== -1 && at < index; at = text.indexOf('\n', at + 1)) {
      line++;
      lineStart = at + 1;
    }
    counted = index;
    found.push({
      key: candidate,
      kind: candidate.startsWith(KEY_PREFIX) ? 'key' : 'session-token',
      index,
      line,
      column: index - lineStart + 1,
    });
  }
  return found;
}

/** Replaces anything key- or token-shaped in `text` with its hint, so logs and errors never carry a usable one. */
export function redactKeys(text: string): string {
  return text.replace(BEARER_SECRET_PATTERN, (match) => keyHint(match));
}

/** How many active keys one user may hold unless configured otherwise (`API_KEYS_PER_USER_MAX`). */
export const DEFAULT_MAX_ACTIVE_KEYS_PER_USER = 50;

/**
 * Whether a user holding `active` keys (not revoked, not expired, not being rotated away) may create another one.
 * Budgets are per user, so more keys never buy more requests; the cap bounds what a compromised account can mint.
 */
export function mayCreateAnotherKey(active: number, cap: number): boolean {
  return active < cap;
}
