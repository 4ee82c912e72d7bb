/**
 * Reading rate-limit headers: the `RateLimit` / `RateLimit-Policy` structured fields of
 * draft-ietf-httpapi-ratelimit-headers and `Retry-After` (RFC 9110). They live here beside their formatters
 * (`formatRateLimit`, `formatRateLimitPolicy` in rate-limit.ts) so one package owns the wire format both ways, and
 * a property test holds format → parse to a round trip. Pure functions: headers come from arbitrary servers and
 * proxies, so every parser returns `undefined` for anything it cannot read instead of throwing.
 */

type BareItem = string | number | boolean;

/** One member of a structured-field List: its value and its parameters (keys lower-cased). */
export interface StructuredItem {
  readonly value: BareItem | undefined;
  readonly params: ReadonlyMap<string, BareItem>;
}

/** The most restrictive item of a `RateLimit` header. */
export interface RateLimitState {
  /** Name of the policy the item belongs to (`"key"`, `"anonymous"`…), when the item names one. */
  readonly policy: string | undefined;
  /** `r`: units left in the current window (never negative). */
  readonly remaining: number;
  /** `t`: seconds until the window resets, when the server says. */
  readonly resetSeconds: number | undefined;
}

/** One item of a `RateLimit-Policy` header. */
export interface RateLimitPolicy {
  readonly quota: number | undefined;
  readonly windowSeconds: number | undefined;
}

const TOKEN = /[A-Za-z*][A-Za-z0-9!#$%&'*+\-.^_`|~:/]*/y;
const NUMBER = /-?\d+(?:\.\d+)?/y;
const KEY = /[A-Za-z*][A-Za-z0-9_\-.*]*/y;

/**
 * Splits a List into its members on commas outside quoted strings and inner lists, so a policy name such as
 * `"a,b"` cannot cut an item in two.
 */
function splitMembers(header: string): string[] {
  const members: string[] = [];
  let start = 0;
  let inString = false;
  let depth = 0;
  for (let i = 0; i < header.length; i++) {
    const char = header[i];
    if (inString) {
      if (char === '\\') i++;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === '(') depth++;
    else if (char === ')') depth = Math.max(0, depth - 1);
    else if (char === ',' && depth === 0) {
      members.push(header.slice(start, i));
      start = i + 1;
    }
  }
  members.push(header.slice(start));
  return members;
}

interface Cursor {
  readonly text: string;
  pos: number;
}

function skipSpace(cursor: Cursor): void {
  while (cursor.pos < cursor.text.length && /[ \t]/.test(cursor.text.charAt(cursor.pos))) cursor.pos++;
}

function matchAt(cursor: Cursor, pattern: RegExp): string | undefined {
  pattern.lastIndex = cursor.pos;
  const match = pattern.exec(cursor.text);
  if (!match) return undefined;
  cursor.pos = pattern.lastIndex;
  return match[0];
}

function parseString(cursor: Cursor): string | undefined {
  let out = '';
  cursor.pos++; // opening quote
  while (cursor.pos < cursor.text.length) {
    const char = cursor.text.charAt(cursor.pos++);
    if (char === '\\') {
      out += cursor.text.charAt(cursor.pos++);
    } else if (char === '"') {
      return out;
    } else {
      out += char;
    }
  }
  return undefined; // unterminated
}

function parseBareItem(cursor: Cursor): BareItem | undefined {
  const char = cursor.text.charAt(cursor.pos);
  if (char === '"') return parseString(cursor);
  if (char === '%' && cursor.text.charAt(cursor.pos + 1) === '"') {
    cursor.pos++;
    return parseString(cursor);
  }
  if (char === '?') {
    const flag = cursor.text.charAt(cursor.pos + 1);
    cursor.pos += 2;
    return flag === '1';
  }
  if (char === '@') {
    cursor.pos++;
    const digits = matchAt(cursor, NUMBER);
    return digits === undefined ? undefined : Number(digits);
  }
  if (char === ':') {
    const end = cursor.text.indexOf(':', cursor.pos + 1);
    if (end < 0) return undefined;
    const bytes = cursor.text.slice(cursor.pos + 1, end);
    cursor.pos = end + 1;
    return bytes;
  }
  const number = matchAt(cursor, NUMBER);
  if (number !== undefined) return Number(number);
  return matchAt(cursor, TOKEN);
}

function parseMember(member: string): StructuredItem | undefined {
  const cursor: Cursor = { text: member.trim(), pos: 0 };
  if (cursor.text.length === 0) return undefined;
  let value: BareItem | undefined;
  if (cursor.text.charAt(0) === '(') {
    // Inner lists carry no rate-limit meaning: keep only the parameters that follow them.
    const close = cursor.text.lastIndexOf(')');
    cursor.pos = close < 0 ? cursor.text.length : close + 1;
  } else {
    value = parseBareItem(cursor);
    if (value === undefined) return undefined;
  }
  const params = new Map<string, BareItem>();
  for (;;) {
    skipSpace(cursor);
    if (cursor.text.charAt(cursor.pos) !== ';') break;
    cursor.pos++;
    skipSpace(cursor);
    const key = matchAt(cursor, KEY);
    if (key === undefined) break;
    let paramValue: BareItem | undefined = true;
    skipSpace(cursor);
    if (cursor.text.charAt(cursor.pos) === '=') {
      cursor.pos++;
      skipSpace(cursor);
      paramValue = parseBareItem(cursor);
    }
    if (paramValue !== undefined) params.set(key.toLowerCase(), paramValue);
  }
  return { value, params };
}

/**
 * Parses a structured-field List (RFC 9651) leniently: optional whitespace anywhere, unknown parameters kept,
 * unreadable members skipped rather than failing the whole header.
 */
export function parseStructuredList(header: string): StructuredItem[] {
  const items: StructuredItem[] = [];
  for (const member of splitMembers(header)) {
    const item = parseMember(member);
    if (item) items.push(item);
  }
  return items;
}

function numberParam(item: StructuredItem, key: string): number | undefined {
  const value = item.params.get(key);
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^\d+(?:\.\d+)?$/.test(value)) return Number(value);
  return undefined;
}

function nameOf(item: StructuredItem): string | undefined {
  return typeof item.value === 'string' ? item.value : undefined;
}

/**
 * Reads `RateLimit: "key";r=1187;t=42` and returns the most restrictive item: the smallest `r`; when several
 * items are exhausted (`r=0`), the one that resets last, because nothing may be sent before all of them reset.
 */
export function parseRateLimit(header: string | null | undefined): RateLimitState | undefined {
  if (!header) return undefined;
  let best: RateLimitState | undefined;
  for (const item of parseStructuredList(header)) {
    const r = numberParam(item, 'r');
    if (r === undefined) continue;
    const t = numberParam(item, 't');
    const candidate: RateLimitState = {
      policy: nameOf(item),
      remaining: Math.max(0, Math.floor(r)),
      resetSeconds: t === undefined || t < 0 ? undefined : t,
    };
    if (!best || isMoreRestrictive(candidate, best)) best = candidate;
  }
  return best;
}

function isMoreRestrictive(candidate: RateLimitState, current: RateLimitState): boolean {
  if (candidate.remaining !== current.remaining) return candidate.remaining < current.remaining;
  return (candidate.resetSeconds ?? -1) > (current.resetSeconds ?? -1);
}

/** Reads `RateLimit-Policy: "key";q=1200;w=60` into a map from policy name to quota and window. */
export function parseRateLimitPolicies(header: string | null | undefined): Map<string, RateLimitPolicy> {
  const policies = new Map<string, RateLimitPolicy>();
  if (!header) return policies;
  for (const item of parseStructuredList(header)) {
    const name = nameOf(item);
    if (name === undefined) continue;
    policies.set(name, { quota: numberParam(item, 'q'), windowSeconds: numberParam(item, 'w') });
  }
  return policies;
}

const DELTA_SECONDS = /^\d+(?:\.\d+)?$/;
// RFC 9110 §5.6.7: IMF-fixdate and the obsolete RFC 850 form carry a zone; asctime does not and means GMT.
const ZONED_HTTP_DATE = /^[A-Za-z]{3,9}, \d{1,2}[ -][A-Za-z]{3}[ -]\d{2,4} \d{2}:\d{2}:\d{2} GMT$/;
const ASCTIME_DATE = /^[A-Za-z]{3} [A-Za-z]{3} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/;

/**
 * Reads `Retry-After` as delta-seconds or as an HTTP-date and returns how many milliseconds to wait from
 * `nowMs` (wall-clock epoch ms, because an HTTP-date is wall-clock time). A date in the past means 0.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (DELTA_SECONDS.test(trimmed)) return Number(trimmed) * 1000;
  let date = Number.NaN;
  if (ZONED_HTTP_DATE.test(trimmed)) date = Date.parse(trimmed);
  else if (ASCTIME_DATE.test(trimmed)) date = Date.parse(`${trimmed} GMT`);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}
