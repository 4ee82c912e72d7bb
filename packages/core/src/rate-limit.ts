/**
 * Rate-limit policy model. Headers follow draft-ietf-httpapi-ratelimit-headers: `RateLimit-Policy` describes the
 * quota (`q`) per window (`w` seconds); `RateLimit` says what remains (`r`) and when the window resets (`t`).
 */
export const RATE_TIERS = ['anonymous', 'authenticated', 'sign-in', 'sign-up', 'leak-report'] as const;
export type RateTier = (typeof RATE_TIERS)[number];

export interface RatePolicy {
  /** Appears in the headers as the policy's name: `"key";q=1200;w=60`. */
  name: string;
  quota: number;
  windowSeconds: number;
}

export const DEFAULT_RATE_POLICIES: Readonly<Record<RateTier, RatePolicy>> = {
  anonymous: { name: 'anonymous', quota: 60, windowSeconds: 60 },
  authenticated: { name: 'authenticated', quota: 1200, windowSeconds: 60 },
  'sign-in': { name: 'sign-in', quota: 10, windowSeconds: 900 },
  'sign-up': { name: 'sign-up', quota: 10, windowSeconds: 900 },
  'leak-report': { name: 'leak-report', quota: 10, windowSeconds: 60 },
};

export const RATE_QUOTA_MAX = 1_000_000;
export const RATE_WINDOW_MAX_SECONDS = 86_400;

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600 };
const SPEC_RE = /^\s*(\d+)\s*\/\s*(\d+)?\s*([smh])?\s*$/;

/**
 * Parses a quota spec as written in the environment: `60/1m`, `1200/60s`, `10/15m`, `60/60` (seconds).
 * Returns null for anything else, so a typo in configuration is caught at start, not at the first request.
 */
export function parseRateSpec(spec: string): { quota: number; windowSeconds: number } | null {
  const match = SPEC_RE.exec(spec);
  if (!match) return null;
  const quota = Number(match[1]);
  const amount = match[2] === undefined ? 1 : Number(match[2]);
  const unit = UNIT_SECONDS[match[3] ?? 's'] ?? 1;
  const windowSeconds = amount * unit;
  if (!validQuota(quota, windowSeconds)) return null;
  return { quota, windowSeconds };
}

export function validQuota(quota: number, windowSeconds: number): boolean {
  return (
    Number.isInteger(quota) &&
    quota >= 1 &&
    quota <= RATE_QUOTA_MAX &&
    Number.isInteger(windowSeconds) &&
    windowSeconds >= 1 &&
    windowSeconds <= RATE_WINDOW_MAX_SECONDS
  );
}

/** An operator-granted limit for a justified heavy user: per organization or per key, optionally until a date. */
export interface RateOverride {
  target: { kind: 'org'; orgId: string } | { kind: 'key'; keyId: string };
  quota: number;
  windowSeconds: number;
  expiresAt: Date | null;
}

export function overrideActive(override: RateOverride, now: Date): boolean {
  return override.expiresAt === null || override.expiresAt.getTime() > now.getTime();
}

/**
 * The policy that applies to a key caller: a key's own override wins over its organizations' ones; among several
 * organization overrides (an unscoped key can act on several) the most generous rate applies. Overrides exist to
 * raise limits, so one below the tier default is ignored rather than silently throttling a customer.
 */
export function resolveKeyPolicy(
  base: RatePolicy,
  overrides: readonly RateOverride[],
  keyId: string,
  orgIds: readonly string[],
  now: Date,
): RatePolicy {
  const active = overrides.filter((o) => overrideActive(o, now));
  const own = active.filter((o) => o.target.kind === 'key' && o.target.keyId === keyId);
  const orgs = active.filter((o) => o.target.kind === 'org' && orgIds.includes(o.target.orgId));
  const candidates = own.length > 0 ? own : orgs;
  let best: RatePolicy = base;
  for (const o of candidates) {
    if (o.quota / o.windowSeconds > best.quota / best.windowSeconds) {
      best = { name: base.name, quota: o.quota, windowSeconds: o.windowSeconds };
    }
  }
  return best;
}

function sfString(value: string): string {
  // RFC 8941 sf-string: printable ASCII, with `"` and `\` escaped.
  return `"${value.replace(/[^\x20-\x7e]/g, '').replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** `"key";q=1200;w=60` */
export function formatRateLimitPolicy(policy: RatePolicy): string {
  return `${sfString(policy.name)};q=${policy.quota};w=${policy.windowSeconds}`;
}

/** `"key";r=1187;t=42`: remaining units and whole seconds until the window resets (never negative). */
export function formatRateLimit(policy: RatePolicy, remaining: number, resetSeconds: number): string {
  const r = Math.max(0, Math.floor(remaining));
  const t = Math.max(0, Math.ceil(resetSeconds));
  return `${sfString(policy.name)};r=${r};t=${t}`;
}

/** Retry-After in whole seconds, rounded up so a client that obeys it is never early; at least 1. */
export function retryAfterSeconds(msBeforeNext: number): number {
  return Math.max(1, Math.ceil(msBeforeNext / 1000));
}
