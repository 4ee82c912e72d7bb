/**
 * Rate-limit policy model. Headers follow draft-ietf-httpapi-ratelimit-headers: `RateLimit-Policy` describes the
 * quota (`q`) per window (`w` seconds); `RateLimit` says what remains (`r`) and when the window resets (`t`).
 */
export const RATE_TIERS = [
  'anonymous',
  'authenticated',
  'sign-in',
  'passkey-sign-in',
  'sign-up',
  'leak-report',
  'health',
  'password-reset',
  'password-reset-email',
  'verification-email',
  'invitation',
  'password-change',
  'reauthentication',
  'mailed-link',
  'second-factor',
] as const;
export type RateTier = (typeof RATE_TIERS)[number];

/**
 * The tiers a procedure may declare for itself (in its meta, beside its declaration): the public procedures that
 * attackers aim at. Such a procedure always pays its own tier and the anonymous one, whatever credentials come
 * with it, so a key or a cookie never lifts it off its budget.
 */
export const PROCEDURE_RATE_TIERS = [
  'sign-in',
  'passkey-sign-in',
  'sign-up',
  'leak-report',
  // Each of these sends mail or checks a password; the API keys them per IP + address or per user.
  'password-reset',
  'verification-email',
  'invitation',
  'password-change',
  'reauthentication',
  'mailed-link',
  // Answers to a second-factor question (authenticator code, recovery code): per account, and per IP at sign-in.
  'second-factor',
] as const;
export type ProcedureRateTier = (typeof PROCEDURE_RATE_TIERS)[number];

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
  /**
   * Passkey sign-in ceremonies (options and answers) per client IP: a signature cannot be guessed, so this only
   * bounds the ceremonies anyone can make us store; one sign-in is two calls.
   */
  'passkey-sign-in': { name: 'passkey-sign-in', quota: 30, windowSeconds: 900 },
  'sign-up': { name: 'sign-up', quota: 10, windowSeconds: 900 },
  'leak-report': { name: 'leak-report', quota: 10, windowSeconds: 60 },
  // Monitors and load balancers poll /healthz from shared addresses: a budget of its own, never the anonymous one.
  health: { name: 'health', quota: 600, windowSeconds: 60 },
  // Each of these sends an email: tight enough that nobody can use us to flood a mailbox.
  /** Password-reset requests per client IP. */
  'password-reset': { name: 'password-reset', quota: 10, windowSeconds: 900 },
  /** Password-reset requests per target address, whoever asks: a victim gets at most this many mails. */
  'password-reset-email': { name: 'password-reset-email', quota: 3, windowSeconds: 900 },
  /** Verification mails (resend, change of email) per signed-in user. */
  'verification-email': { name: 'verification-email', quota: 5, windowSeconds: 900 },
  /** Invitations sent per signed-in user. */
  invitation: { name: 'invitation', quota: 50, windowSeconds: 3600 },
  /** Password changes per signed-in user: guessing the current password from a borrowed session stays slow. */
  'password-change': { name: 'password-change', quota: 10, windowSeconds: 900 },
  /** Sudo confirmations (`auth.confirmSudo`) per signed-in user: a borrowed session cannot guess its way in. */
  reauthentication: { name: 'reauthentication', quota: 10, windowSeconds: 900 },
  /** Following a mailed link (verify an address, reset a password) per client IP. */
  'mailed-link': { name: 'mailed-link', quota: 30, windowSeconds: 900 },
  /**
   * Second-factor answers (authenticator or recovery codes) per account, wherever they come from (sign-in, enrolment,
   * sudo), and per client IP for the anonymous sign-in step: with ±1 step accepted, 10 guesses per 15 minutes leave
   * a password thief about 1 in 33,000 per window.
   */
  'second-factor': { name: 'second-factor', quota: 10, windowSeconds: 900 },
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

/**
 * How one call of a request is rated: `null` for a procedure or route that does not exist (it is refused before
 * any work, and still costs its sender), otherwise the tier its declaration names, if any.
 */
export type RatedCall = { tier: ProcedureRateTier | null } | null;

/** One tier's share of a request: `call` says which call a per-call tier (sign-in is per email) is for. */
export interface PlannedCharge {
  tier: RateTier;
  units: number;
  call: number | null;
}

/**
 * What a request costs, decided from the procedures that will run (never from the URL's spelling): each call costs
 * one unit of the caller's budget (authenticated, or anonymous per IP), except that a call of a procedure with its
 * own tier pays that tier and the anonymous one whatever credentials are attached, and an unknown call pays the
 * anonymous one. Calls of the same tier are summed, except per-call tiers (sign-in, keyed by email).
 */
export function planCharges(calls: readonly RatedCall[], authenticated: boolean): PlannedCharge[] {
  let anonymous = 0;
  let caller = 0;
  const own: PlannedCharge[] = [];
  calls.forEach((call, index) => {
    if (call === null) {
      anonymous++;
    } else if (call.tier !== null) {
      own.push({ tier: call.tier, units: 1, call: index });
      anonymous++;
    } else if (authenticated) {
      caller++;
    } else {
      anonymous++;
    }
  });
  const plan: PlannedCharge[] = [];
  if (caller > 0) plan.push({ tier: 'authenticated', units: caller, call: null });
  if (anonymous > 0) plan.push({ tier: 'anonymous', units: anonymous, call: null });
  return [...plan, ...own];
}

/**
 * The authenticated budget a key draws from. A user's session and all their keys share one budget (`user:<id>`),
 * so creating keys never multiplies it; an organization override raises that shared budget while the key acts
 * within the organization's reach. Only an operator's override for one key gives that key a budget of its own.
 * `orgIds` and `now` may be given as functions: they are only needed when there are overrides (rarely), so the
 * everyday request does not compute them.
 */
export function keyBudget(
  base: RatePolicy,
  overrides: readonly RateOverride[],
  key: { id: string; creatorId: string },
  orgIds: readonly string[] | (() => readonly string[]),
  now: Date | (() => Date),
): { policy: RatePolicy; bucket: string } {
  const userBucket = `user:${key.creatorId}`;
  if (overrides.length === 0) return { policy: { ...base, name: 'user' }, bucket: userBucket };
  const at = typeof now === 'function' ? now() : now;
  const orgs = typeof orgIds === 'function' ? orgIds() : orgIds;
  const own = overrides.some(
    (o) => o.target.kind === 'key' && o.target.keyId === key.id && overrideActive(o, at),
  );
  if (own) {
    return {
      policy: resolveKeyPolicy({ ...base, name: 'key' }, overrides, key.id, orgs, at),
      bucket: `key:${key.id}`,
    };
  }
  return {
    policy: resolveKeyPolicy({ ...base, name: 'user' }, overrides, key.id, orgs, at),
    bucket: userBucket,
  };
}

/**
 * RFC 8941 sf-string: printable ASCII, with `"` and `\` escaped. Policy names are few (tiers, `user`, `key`), so
 * each is escaped once and remembered: the headers are written on every request.
 */
const sfStrings = new Map<string, string>();
function sfString(value: string): string {
  let quoted = sfStrings.get(value);
  if (quoted === undefined) {
    quoted = `"${value.replace(/[^\x20-\x7e]/g, '').replace(/["\\]/g, (c) => `\\${c}`)}"`;
    if (sfStrings.size >= 1_000) sfStrings.clear();
    sfStrings.set(value, quoted);
  }
  return quoted;
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
