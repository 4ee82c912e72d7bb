import { type KeyAccess, type KeyGrant, keyAccess } from './access.ts';
import type { CallerKind, Permission } from './permissions.ts';
import type { Role } from './roles.ts';
import { twoFactorPolicyAllows } from './two-factor.ts';

/**
 * The organization policy "Members must use two-factor sign-in": who it stops, what stays open to them, and when
 * an owner may switch it on. The API finds the facts (the organization's flag, whether the user has a confirmed
 * authenticator app or a passkey); these rules decide.
 */

/** An organization's policy as it applies to one user (a member, or the creator of a key). */
export interface TwoFactorStanding {
  orgRequiresTwoFactor: boolean;
  userHasSecondFactor: boolean;
}

/**
 * What a member stopped by the policy may still do *in* that organization: leave it. Everything that asks no
 * organization — who they are, their list of organizations, their own account and security settings, enrolling a
 * second factor — never meets the policy and stays open anyway.
 */
export const OPEN_UNDER_TWO_FACTOR_POLICY: readonly Permission[] = ['members:leave'];

export type TwoFactorPolicyDecision = { ok: true } | { ok: false; code: 'TWO_FACTOR_REQUIRED' };

/**
 * May this caller act in the organization under its two-factor policy? `permission` is what the call needs there
 * (null: acting there at all, no exemption). Only the member themselves, signed in, gets the exemptions: a key or
 * session token of a member who has not enrolled is stopped outright (none of the exempt actions are open to
 * bearer credentials anyway).
 */
export function twoFactorPolicyDecision(
  standing: TwoFactorStanding,
  permission: Permission | null,
  via: CallerKind,
): TwoFactorPolicyDecision {
  if (twoFactorPolicyAllows(standing.orgRequiresTwoFactor, standing.userHasSecondFactor)) return { ok: true };
  if (via === 'session' && permission !== null && OPEN_UNDER_TWO_FACTOR_POLICY.includes(permission)) {
    return { ok: true };
  }
  return { ok: false, code: 'TWO_FACTOR_REQUIRED' };
}

/**
 * `keyAccess` (scope, cut-offs, membership, capping) and then the policy: a key whose creator has not enrolled
 * stops in every organization that requires two-factor sign-in, and keeps working in their others. The policy
 * comes last, so a key that could not act there anyway learns nothing about it.
 */
export function keyAccessUnderTwoFactorPolicy(
  grant: KeyGrant,
  orgId: string,
  creatorRole: Role | null,
  standing: TwoFactorStanding,
): KeyAccess {
  const access = keyAccess(grant, orgId, creatorRole);
  if (!access.ok) return access;
  return twoFactorPolicyAllows(standing.orgRequiresTwoFactor, standing.userHasSecondFactor)
    ? access
    : { ok: false, reason: 'two-factor-required' };
}

export type TwoFactorPolicyChange = { ok: true } | { ok: false; code: 'TWO_FACTOR_NOT_ENROLLED' };

/**
 * May the acting owner set the policy to `required`? Turning it on without a second factor of their own would lock
 * them out of the organization on the very next request: refused. Turning it off is always possible.
 */
export function decideTwoFactorPolicyChange(
  required: boolean,
  actorHasSecondFactor: boolean,
): TwoFactorPolicyChange {
  if (required && !actorHasSecondFactor) return { ok: false, code: 'TWO_FACTOR_NOT_ENROLLED' };
  return { ok: true };
}
