import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decideCreateOrganization,
  decideInvitationResponse,
  decideInvite,
  INVITATION_STATUSES,
  invitationStatus,
} from './invitations.ts';
import { canGrantRole } from './members.ts';
import { ROLES, roleAtLeast } from './roles.ts';

const role = fc.constantFrom(...ROLES);
const status = fc.constantFrom(...INVITATION_STATUSES);
const now = new Date('2026-12-02T12:00:00Z');
const later = new Date('2026-12-09T12:00:00Z');

describe('who may invite', () => {
  it('admins invite up to admin; only owners invite owners; members and viewers invite nobody', () => {
    expect(decideInvite('admin', 'admin')).toEqual({ ok: true });
    expect(decideInvite('admin', 'owner')).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    expect(decideInvite('owner', 'owner')).toEqual({ ok: true });
    expect(decideInvite('member', 'viewer')).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    expect(decideInvite('viewer', 'viewer')).toMatchObject({ ok: false, code: 'FORBIDDEN' });
  });

  it('property: an allowed invitation never grants more than the inviter holds', () => {
    fc.assert(
      fc.property(role, role, (inviter, r) => {
        const d = decideInvite(inviter, r);
        return (
          !d.ok || (roleAtLeast(inviter, r) && canGrantRole(inviter, r) && roleAtLeast(inviter, 'admin'))
        );
      }),
    );
  });
});

describe('answering an invitation', () => {
  const pending = { email: 'ada@example.com', status: 'pending' as const, expiresAt: later };

  it('needs the invited address, verified', () => {
    const verified = { email: 'Ada@Example.com', emailVerified: true };
    expect(decideInvitationResponse({ invitation: pending, user: verified, now })).toEqual({ ok: true });
    expect(
      decideInvitationResponse({ invitation: pending, user: { ...verified, emailVerified: false }, now }),
    ).toMatchObject({ ok: false, code: 'EMAIL_NOT_VERIFIED' });
    expect(
      decideInvitationResponse({
        invitation: pending,
        user: { email: 'eve@example.com', emailVerified: true },
        now,
      }),
    ).toMatchObject({ ok: false, code: 'NOT_FOUND' });
  });

  it('an answered, cancelled or expired invitation cannot be answered again', () => {
    const user = { email: 'ada@example.com', emailVerified: true };
    for (const s of ['accepted', 'declined', 'cancelled'] as const) {
      expect(decideInvitationResponse({ invitation: { ...pending, status: s }, user, now })).toMatchObject({
        code: 'NOT_FOUND',
      });
    }
    expect(decideInvitationResponse({ invitation: pending, user, now: later })).toMatchObject({
      code: 'INVITATION_EXPIRED',
    });
    expect(invitationStatus(pending, later)).toBe('expired');
    expect(invitationStatus(pending, now)).toBe('pending');
  });

  it('property: only a verified holder of the address answers a pending, unexpired invitation', () => {
    fc.assert(
      fc.property(
        status,
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: -(10 ** 9), max: 10 ** 9 }),
        (s, sameEmail, verified, delta) => {
          const d = decideInvitationResponse({
            invitation: { email: 'ada@example.com', status: s, expiresAt: new Date(now.getTime() + delta) },
            user: { email: sameEmail ? 'ADA@example.com ' : 'ada@example.org', emailVerified: verified },
            now,
          });
          return d.ok === (s === 'pending' && sameEmail && verified && delta > 0);
        },
      ),
    );
  });
});

describe('creating an organization', () => {
  it('needs a verified address', () => {
    expect(decideCreateOrganization({ emailVerified: true })).toEqual({ ok: true });
    expect(decideCreateOrganization({ emailVerified: false })).toMatchObject({ code: 'EMAIL_NOT_VERIFIED' });
  });
});
