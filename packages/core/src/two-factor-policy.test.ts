import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type KeyGrant, keyAccess } from './access.ts';
import { type CallerKind, PERMISSION_NAMES } from './permissions.ts';
import { ROLES } from './roles.ts';
import {
  decideTwoFactorPolicyChange,
  keyAccessUnderTwoFactorPolicy,
  OPEN_UNDER_TWO_FACTOR_POLICY,
  twoFactorPolicyDecision,
} from './two-factor-policy.ts';

const blocked = { orgRequiresTwoFactor: true, userHasSecondFactor: false };
const standingArb = fc.record({ orgRequiresTwoFactor: fc.boolean(), userHasSecondFactor: fc.boolean() });
const viaArb = fc.constantFrom<CallerKind>('session', 'key', 'token');
const permissionArb = fc.option(fc.constantFrom(...PERMISSION_NAMES), { nil: null });

describe('two-factor policy decision', () => {
  it('stops a member without a second factor, signed in or by bearer credential', () => {
    expect(twoFactorPolicyDecision(blocked, 'projects:read', 'session')).toEqual({
      ok: false,
      code: 'TWO_FACTOR_REQUIRED',
    });
    expect(twoFactorPolicyDecision(blocked, 'org:read', 'token')).toMatchObject({ ok: false });
    expect(twoFactorPolicyDecision(blocked, null, 'session')).toMatchObject({ ok: false });
  });

  it('leaves a blocked member, signed in, free to leave the organization, and nothing else', () => {
    expect(OPEN_UNDER_TWO_FACTOR_POLICY).toEqual(['members:leave']);
    expect(twoFactorPolicyDecision(blocked, 'members:leave', 'session')).toEqual({ ok: true });
    expect(twoFactorPolicyDecision(blocked, 'members:leave', 'key')).toMatchObject({ ok: false });
    expect(twoFactorPolicyDecision(blocked, 'members:leave', 'token')).toMatchObject({ ok: false });
  });

  it('blocks exactly when the org requires it, the user has none, and the call is not an exempt session call', () => {
    fc.assert(
      fc.property(standingArb, permissionArb, viaArb, (standing, permission, via) => {
        const exempt =
          via === 'session' && permission !== null && OPEN_UNDER_TWO_FACTOR_POLICY.includes(permission);
        const stopped = standing.orgRequiresTwoFactor && !standing.userHasSecondFactor && !exempt;
        expect(twoFactorPolicyDecision(standing, permission, via).ok).toBe(!stopped);
      }),
    );
  });

  it('never stops anyone in an organization without the policy, nor anyone who enrolled', () => {
    fc.assert(
      fc.property(fc.boolean(), permissionArb, viaArb, (requires, permission, via) => {
        expect(
          twoFactorPolicyDecision(
            { orgRequiresTwoFactor: false, userHasSecondFactor: requires },
            permission,
            via,
          ),
        ).toEqual({ ok: true });
        expect(
          twoFactorPolicyDecision(
            { orgRequiresTwoFactor: requires, userHasSecondFactor: true },
            permission,
            via,
          ),
        ).toEqual({ ok: true });
      }),
    );
  });
});

describe('keys under the two-factor policy', () => {
  const grant: KeyGrant = { role: 'admin', scopeOrgIds: null, cutOffOrgIds: [] };

  it('a key of a creator without a second factor stops in the requiring org only', () => {
    expect(keyAccessUnderTwoFactorPolicy(grant, 'org-a', 'owner', blocked)).toEqual({
      ok: false,
      reason: 'two-factor-required',
    });
    expect(
      keyAccessUnderTwoFactorPolicy(grant, 'org-b', 'owner', { ...blocked, orgRequiresTwoFactor: false }),
    ).toEqual({ ok: true, role: 'admin' });
    expect(
      keyAccessUnderTwoFactorPolicy(grant, 'org-a', 'owner', { ...blocked, userHasSecondFactor: true }),
    ).toEqual({ ok: true, role: 'admin' });
  });

  it('says nothing of the policy where the key could not act anyway (scope, cut-off, not a member)', () => {
    expect(
      keyAccessUnderTwoFactorPolicy({ ...grant, scopeOrgIds: ['x'] }, 'org-a', 'owner', blocked),
    ).toEqual({
      ok: false,
      reason: 'out-of-scope',
    });
    expect(
      keyAccessUnderTwoFactorPolicy({ ...grant, cutOffOrgIds: ['org-a'] }, 'org-a', 'owner', blocked),
    ).toEqual({ ok: false, reason: 'cut-off' });
    expect(keyAccessUnderTwoFactorPolicy(grant, 'org-a', null, blocked)).toEqual({
      ok: false,
      reason: 'not-member',
    });
  });

  it('is keyAccess when the policy lets the creator act, and never wider than keyAccess', () => {
    const grantArb = fc.record({
      role: fc.constantFrom('viewer', 'member', 'admin' as const),
      scopeOrgIds: fc.option(fc.subarray(['a', 'b', 'c']), { nil: null }),
      cutOffOrgIds: fc.subarray(['a', 'b', 'c']),
    });
    fc.assert(
      fc.property(
        grantArb,
        fc.constantFrom('a', 'b', 'c'),
        fc.option(fc.constantFrom(...ROLES), { nil: null }),
        standingArb,
        (g, orgId, creatorRole, standing) => {
          const plain = keyAccess(g, orgId, creatorRole);
          const underPolicy = keyAccessUnderTwoFactorPolicy(g, orgId, creatorRole, standing);
          if (!standing.orgRequiresTwoFactor || standing.userHasSecondFactor) {
            expect(underPolicy).toEqual(plain);
          } else if (plain.ok) {
            expect(underPolicy).toEqual({ ok: false, reason: 'two-factor-required' });
          } else {
            expect(underPolicy).toEqual(plain);
          }
        },
      ),
    );
  });
});

describe('setting the policy', () => {
  it('refuses to switch it on for an owner without a second factor (they would lock themselves out)', () => {
    expect(decideTwoFactorPolicyChange(true, false)).toEqual({ ok: false, code: 'TWO_FACTOR_NOT_ENROLLED' });
    expect(decideTwoFactorPolicyChange(true, true)).toEqual({ ok: true });
    expect(decideTwoFactorPolicyChange(false, false)).toEqual({ ok: true });
    expect(decideTwoFactorPolicyChange(false, true)).toEqual({ ok: true });
  });
});
