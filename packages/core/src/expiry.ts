const DAY_MS = 86_400_000;

/** Lifetimes the settings app offers as presets, in days. Any whole number of days in range is accepted. */
export const KEY_LIFETIME_PRESETS_DAYS = [7, 30, 60, 90, 365] as const;
export const KEY_MAX_LIFETIME_DAYS = 3650;
/** A chosen expiry date must be at least this far ahead: a key that dies before it is copied helps nobody. */
export const KEY_MIN_LIFETIME_MS = 3_600_000;

/** An organization's rules for keys that can act on it. */
export interface KeyPolicy {
  requireExpiry: boolean;
  /** null = no maximum. */
  maxLifetimeDays: number | null;
}

export const DEFAULT_KEY_POLICY: KeyPolicy = { requireExpiry: false, maxLifetimeDays: null };

/**
 * A key that can act on several organizations must satisfy all of them: expiry is required if any requires it,
 * and the maximum lifetime is the smallest one set.
 */
export function strictestPolicy(policies: readonly KeyPolicy[]): KeyPolicy {
  let requireExpiry = false;
  let maxLifetimeDays: number | null = null;
  for (const p of policies) {
    requireExpiry ||= p.requireExpiry || p.maxLifetimeDays !== null;
    if (p.maxLifetimeDays !== null) {
      maxLifetimeDays =
        maxLifetimeDays === null ? p.maxLifetimeDays : Math.min(maxLifetimeDays, p.maxLifetimeDays);
    }
  }
  return { requireExpiry, maxLifetimeDays };
}

export type ExpiryChoice = { expiresInDays: number } | { expiresAt: Date } | { never: true };

export type ExpiryResult =
  | { ok: true; expiresAt: Date | null }
  | { ok: false; code: 'KEY_POLICY_VIOLATION' | 'VALIDATION_FAILED'; message: string };

/** Turns the creator's choice into an expiry date, within the policy of every organization the key can reach. */
export function resolveKeyExpiry(choice: ExpiryChoice, now: Date, policy: KeyPolicy): ExpiryResult {
  let expiresAt: Date | null;
  if ('expiresInDays' in choice) {
    const days = choice.expiresInDays;
    if (!Number.isInteger(days) || days < 1 || days > KEY_MAX_LIFETIME_DAYS) {
      return {
        ok: false,
        code: 'VALIDATION_FAILED',
        message: `expiresInDays must be a whole number from 1 to ${KEY_MAX_LIFETIME_DAYS}.`,
      };
    }
    expiresAt = new Date(now.getTime() + days * DAY_MS);
  } else if ('expiresAt' in choice) {
    const at = choice.expiresAt.getTime();
    if (!Number.isFinite(at) || at < now.getTime() + KEY_MIN_LIFETIME_MS) {
      return {
        ok: false,
        code: 'VALIDATION_FAILED',
        message: 'expiresAt must be at least one hour in the future.',
      };
    }
    if (at > now.getTime() + KEY_MAX_LIFETIME_DAYS * DAY_MS) {
      return {
        ok: false,
        code: 'VALIDATION_FAILED',
        message: `expiresAt must be within ${KEY_MAX_LIFETIME_DAYS} days.`,
      };
    }
    expiresAt = new Date(at);
  } else {
    expiresAt = null;
  }

  // A maximum lifetime implies that "never" is not allowed either.
  if (expiresAt === null && (policy.requireExpiry || policy.maxLifetimeDays !== null)) {
    return {
      ok: false,
      code: 'KEY_POLICY_VIOLATION',
      message: 'An organization this key can act on requires every key to expire: choose an expiration.',
    };
  }
  if (expiresAt !== null && policy.maxLifetimeDays !== null) {
    // One minute of slack so "the maximum, in days" chosen in the UI is never refused for clock drift.
    const limit = now.getTime() + policy.maxLifetimeDays * DAY_MS + 60_000;
    if (expiresAt.getTime() > limit) {
      return {
        ok: false,
        code: 'KEY_POLICY_VIOLATION',
        message: `An organization this key can act on allows keys to live at most ${policy.maxLifetimeDays} days.`,
      };
    }
  }
  return { ok: true, expiresAt };
}

/** Lifetime presets (days) a creator may pick under `policy`, and whether "No expiration" may be offered. */
export function allowedLifetimes(policy: KeyPolicy): {
  presetsDays: number[];
  neverAllowed: boolean;
  maxDays: number;
} {
  const maxDays = policy.maxLifetimeDays ?? KEY_MAX_LIFETIME_DAYS;
  return {
    presetsDays: KEY_LIFETIME_PRESETS_DAYS.filter((d) => d <= maxDays),
    neverAllowed: !policy.requireExpiry && policy.maxLifetimeDays === null,
    maxDays,
  };
}

export type KeyStatus = 'active' | 'revoked' | 'expired';

export function keyStatus(key: { revokedAt: Date | null; expiresAt: Date | null }, now: Date): KeyStatus {
  if (key.revokedAt !== null && key.revokedAt.getTime() <= now.getTime()) return 'revoked';
  if (key.expiresAt !== null && key.expiresAt.getTime() <= now.getTime()) return 'expired';
  return 'active';
}

/**
 * Stale: not used for 30 days, counting from its creation when it was never used. Stale keys are the first ones to
 * revoke. A key created a minute ago is "never used" but not stale: it has not had the chance yet.
 */
export const KEY_STALE_AFTER_MS = 30 * DAY_MS;

export function isKeyStale(key: { lastUsedAt: Date | null; createdAt: Date }, now: Date): boolean {
  const since = key.lastUsedAt ?? key.createdAt;
  return now.getTime() - since.getTime() >= KEY_STALE_AFTER_MS;
}

/** How often a key's last-use time and IP are written: coalesced, never a write per request. */
export const KEY_USAGE_WRITE_INTERVAL_MS = 60_000;

export const ROTATION_GRACE_PERIODS = {
  now: 0,
  '1h': 3_600_000,
  '24h': 86_400_000,
  '7d': 7 * DAY_MS,
} as const;
export type RotationGrace = keyof typeof ROTATION_GRACE_PERIODS;
export const ROTATION_GRACE_NAMES = ['now', '1h', '24h', '7d'] as const satisfies readonly RotationGrace[];

/**
 * When a rotated-out key stops: after the grace period, but never later than it would have expired anyway.
 * Grace `now` ends it at once.
 */
export function rotatedKeyEnd(oldExpiresAt: Date | null, now: Date, grace: RotationGrace): Date {
  const end = now.getTime() + ROTATION_GRACE_PERIODS[grace];
  return new Date(oldExpiresAt === null ? end : Math.min(end, oldExpiresAt.getTime()));
}

/**
 * The replacement key keeps the old key's lifetime length, counted from now, shortened to what the policy allows
 * today (a policy may have tightened since the old key was made). A never-expiring key stays so unless a policy
 * now requires expiry, in which case it gets the longest lifetime allowed (90 days if no maximum is set).
 */
export function rotatedKeyExpiry(
  old: { createdAt: Date; expiresAt: Date | null },
  now: Date,
  policy: KeyPolicy,
): ExpiryChoice {
  const maxMs = (policy.maxLifetimeDays ?? KEY_MAX_LIFETIME_DAYS) * DAY_MS;
  if (old.expiresAt === null) {
    if (!policy.requireExpiry && policy.maxLifetimeDays === null) return { never: true };
    return { expiresInDays: policy.maxLifetimeDays ?? 90 };
  }
  const lifetime = Math.min(
    Math.max(old.expiresAt.getTime() - old.createdAt.getTime(), KEY_MIN_LIFETIME_MS),
    maxMs,
  );
  return { expiresAt: new Date(now.getTime() + lifetime) };
}
