/**
 * Membership by consent (issue #11): invitations instead of adding people, verified email, password change and
 * reset. Mail goes through nodemailer to a real SMTP server started by the test app; links are read from it.
 */
import { ONE_TIME_TOKEN_PATTERN } from '@crowdee/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenOf } from '../src/mail/test-mailbox.ts';
import { keyFor, orgWith, type Person, signUpPerson, verifyEmail } from './helpers/fixtures.ts';
import { Browser, errorCode, keyClient, PASSWORD, uniqueEmail } from './helpers/http-client.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app?.close();
});

const HOUR = 3_600_000;
const NEW_PASSWORD = 'a brand new passphrase';

async function memberIds(owner: Person, orgId: string): Promise<string[]> {
  return (await owner.browser.trpc.members.list.query({ orgId })).map((m) => m.userId);
}

async function invitationMail(person: Person, invitationId: string) {
  const mail = await person.mailbox.take(
    person.email,
    'invitations',
    (link) => link.searchParams.get('invitation') === invitationId,
  );
  return { invitationId, token: tokenOf(mail.link) };
}

describe('invitations replace adding people', () => {
  it('a stranger’s invitation never makes anyone a member: not before an answer, not after a decline', async () => {
    const eve = await signUpPerson(app, 'Eve');
    const ada = await signUpPerson(app, 'Ada');
    const org = await orgWith(eve, 'Eve’s trap');
    const invitation = await eve.browser.trpc.members.invite.mutate({
      orgId: org.id,
      email: ada.email,
      role: 'admin',
    });
    expect(invitation.status).toBe('pending');
    expect(await memberIds(eve, org.id)).toEqual([eve.id]);
    expect(await ada.browser.trpc.orgs.list.query()).toEqual([]);
    expect(await errorCode(ada.browser.trpc.orgs.get.query({ orgId: org.id }))).toBe('NOT_FOUND');
    // Ada sees it, and says no.
    const mine = await ada.browser.trpc.invitations.list.query();
    expect(mine.map((i) => [i.id, i.organization.name, i.role])).toEqual([
      [invitation.id, 'Eve’s trap', 'admin'],
    ]);
    await ada.browser.trpc.invitations.decline.mutate(await invitationMail(ada, invitation.id));
    expect(await memberIds(eve, org.id)).toEqual([eve.id]);
    expect(await ada.browser.trpc.invitations.list.query()).toEqual([]);
    expect(await eve.browser.trpc.members.invitations.query({ orgId: org.id })).toEqual([]);
    // A declined invitation cannot be accepted afterwards.
    expect(await errorCode(ada.browser.trpc.invitations.accept.mutate({ invitationId: invitation.id }))).toBe(
      'NOT_FOUND',
    );
    expect(await memberIds(eve, org.id)).toEqual([eve.id]);
    const actions = (await eve.browser.trpc.audit.list.query({ orgId: org.id })).items.map((e) => e.action);
    expect(actions).toEqual(['invitation.declined', 'invitation.created', 'org.created']);
  });

  it('accepting joins at the invited role, once; the invitation link works once', async () => {
    const olive = await signUpPerson(app, 'Olive');
    const mia = await signUpPerson(app, 'Mia');
    const org = await orgWith(olive, 'Join');
    const invitation = await olive.browser.trpc.members.invite.mutate({
      orgId: org.id,
      email: mia.email,
      role: 'member',
    });
    const answer = await invitationMail(mia, invitation.id);
    expect(await mia.browser.trpc.invitations.accept.mutate(answer)).toEqual({
      orgId: org.id,
      role: 'member',
    });
    expect((await mia.browser.trpc.orgs.list.query()).map((o) => [o.id, o.role])).toEqual([
      [org.id, 'member'],
    ]);
    expect(await errorCode(mia.browser.trpc.invitations.accept.mutate(answer))).toBe('NOT_FOUND');
    expect(await errorCode(mia.browser.trpc.invitations.decline.mutate(answer))).toBe('NOT_FOUND');
  });

  it('only the verified holder of the invited address can answer: not another account, not with the token', async () => {
    const olive = await signUpPerson(app, 'Olive');
    const ada = await signUpPerson(app, 'Ada');
    const bob = await signUpPerson(app, 'Bob');
    const org = await orgWith(olive, 'Addressed');
    const invitation = await olive.browser.trpc.members.invite.mutate({
      orgId: org.id,
      email: ada.email,
      role: 'viewer',
    });
    const answer = await invitationMail(ada, invitation.id);
    // Bob holds Ada's link (forwarded, leaked): it is not his address, so the invitation does not exist for him.
    expect(await errorCode(bob.browser.trpc.invitations.accept.mutate(answer))).toBe('NOT_FOUND');
    expect(await errorCode(bob.browser.trpc.invitations.decline.mutate(answer))).toBe('NOT_FOUND');
    expect(await bob.browser.trpc.invitations.list.query()).toEqual([]);
    // A token of another invitation (or junk) does not open this one, even for Ada.
    expect(
      await errorCode(
        ada.browser.trpc.invitations.accept.mutate({ invitationId: invitation.id, token: 'cdi_junk' }),
      ),
    ).toBe('NOT_FOUND');
    expect(await memberIds(olive, org.id)).toEqual([olive.id]);
    await ada.browser.trpc.invitations.accept.mutate(answer);
    expect(await memberIds(olive, org.id)).toEqual([olive.id, ada.id]);
  });

  it('an unverified account cannot accept, and does not even see its invitations, until it verifies', async () => {
    const olive = await signUpPerson(app, 'Olive');
    const una = await signUpPerson(app, 'Una', { verified: false });
    const org = await orgWith(olive, 'Verify first');
    const invitation = await olive.browser.trpc.members.invite.mutate({
      orgId: org.id,
      email: una.email,
      role: 'viewer',
    });
    const answer = await invitationMail(una, invitation.id);
    expect(await una.browser.trpc.invitations.list.query()).toEqual([]);
    expect(await errorCode(una.browser.trpc.invitations.accept.mutate(answer))).toBe('EMAIL_NOT_VERIFIED');
    expect(await errorCode(una.browser.trpc.invitations.accept.mutate({ invitationId: invitation.id }))).toBe(
      'EMAIL_NOT_VERIFIED',
    );
    expect(await memberIds(olive, org.id)).toEqual([olive.id]);
    await verifyEmail(una, una.email);
    expect((await una.browser.trpc.invitations.list.query()).map((i) => i.id)).toEqual([invitation.id]);
    await una.browser.trpc.invitations.accept.mutate(answer);
    expect(await memberIds(olive, org.id)).toEqual([olive.id, una.id]);
  });

  it('whoever registered the invitee’s address without verifying it cannot accept, even holding the link', async () => {
    const olive = await signUpPerson(app, 'Olive');
    const victim = uniqueEmail('victim');
    // Mallory registers the address first; she never gets its mail, so it stays unverified.
    const mallory = new Browser(app.url);
    await mallory.trpc.auth.signUp.mutate({ email: victim, password: PASSWORD, name: 'Mallory' });
    const org = await orgWith(olive, 'Squatted');
    const invitation = await olive.browser.trpc.members.invite.mutate({
      orgId: org.id,
      email: victim,
      role: 'admin',
    });
    const mail = await app.mailbox.take(victim, 'invitations');
    const answer = { invitationId: invitation.id, token: tokenOf(mail.link) };
    expect(await errorCode(mallory.trpc.invitations.accept.mutate(answer))).toBe('EMAIL_NOT_VERIFIED');
    expect(await errorCode(mallory.trpc.invitations.accept.mutate({ invitationId: invitation.id }))).toBe(
      'EMAIL_NOT_VERIFIED',
    );
    expect(await mallory.trpc.invitations.list.query()).toEqual([]);
    expect(await errorCode(mallory.trpc.orgs.get.query({ orgId: org.id }))).toBe('NOT_FOUND');
    expect(await memberIds(olive, org.id)).toEqual([olive.id]);
  });

  it('expires after 7 days: cannot be accepted, leaves the pending list, and the expiry is audited', async () => {
    const olive = await signUpPerson(app, 'Olive');
    const ada = await signUpPerson(app, 'Ada');
    const org = await orgWith(olive, 'Slow');
    const invitation = await olive.browser.trpc.members.invite.mutate({
      orgId: org.id,
      email: ada.email,
      role: 'viewer',
    });
    const answer = await invitationMail(ada, invitation.id);
    app.clock.advance(7 * 24 * HOUR);
    try {
      // A week on, their sessions have ended too: both sign in again.
      const [adaNow, oliveNow] = [new Browser(app.url), new Browser(app.url)];
      await adaNow.trpc.auth.signIn.mutate({ email: ada.email, password: PASSWORD });
      await oliveNow.trpc.auth.signIn.mutate({ email: olive.email, password: PASSWORD });
      expect(await errorCode(adaNow.trpc.invitations.accept.mutate(answer))).toBe('INVITATION_EXPIRED');
      expect(await oliveNow.trpc.members.invitations.query({ orgId: org.id })).toEqual([]);
      expect(await adaNow.trpc.invitations.list.query()).toEqual([]);
      expect((await oliveNow.trpc.members.list.query({ orgId: org.id })).map((m) => m.userId)).toEqual([
        olive.id,
      ]);
      const audit = await oliveNow.trpc.audit.list.query({ orgId: org.id });
      expect(audit.items[0]).toMatchObject({
        action: 'invitation.expired',
        actorType: 'system',
        targetId: invitation.id,
      });
    } finally {
      app.clock.advance(-7 * 24 * HOUR);
    }
  });

  it('admins list and cancel pending invitations; a cancelled one cannot be accepted; all audited', async () => {
    const olive = await signUpPerson(app, 'Olive');
    const adam = await signUpPerson(app, 'Adam');
    const ada = await signUpPerson(app, 'Ada');
    const org = await orgWith(olive, 'Cancel', [{ person: adam, role: 'admin' }]);
    const toOwner = await olive.browser.trpc.members.invite.mutate({
      orgId: org.id,
      email: ada.email,
      role: 'owner',
    });
    // An admin may not withdraw what only an owner could send.
    expect(
      await errorCode(
        adam.browser.trpc.members.cancelInvitation.mutate({ orgId: org.id, invitationId: toOwner.id }),
      ),
    ).toBe('FORBIDDEN');
    // Inviting the same address again replaces the pending invitation (a resend): the old link dies.
    const again = await adam.browser.trpc.members.invite.mutate({
      orgId: org.id,
      email: ada.email,
      role: 'viewer',
    });
    const pending = await olive.browser.trpc.members.invitations.query({ orgId: org.id });
    expect(pending.map((i) => [i.id, i.email, i.role, i.invitedBy?.name])).toEqual([
      [again.id, ada.email, 'viewer', 'Adam'],
    ]);
    const stale = await invitationMail(ada, toOwner.id);
    expect(await errorCode(ada.browser.trpc.invitations.accept.mutate(stale))).toBe('NOT_FOUND');
    await adam.browser.trpc.members.cancelInvitation.mutate({ orgId: org.id, invitationId: again.id });
    expect(await olive.browser.trpc.members.invitations.query({ orgId: org.id })).toEqual([]);
    expect(
      await errorCode(ada.browser.trpc.invitations.accept.mutate(await invitationMail(ada, again.id))),
    ).toBe('NOT_FOUND');
    expect(
      await errorCode(
        adam.browser.trpc.members.cancelInvitation.mutate({ orgId: org.id, invitationId: again.id }),
      ),
    ).toBe('NOT_FOUND');
    const actions = (await olive.browser.trpc.audit.list.query({ orgId: org.id })).items.map((e) => e.action);
    expect(actions.slice(0, 3)).toEqual(['invitation.cancelled', 'invitation.created', 'invitation.created']);
  });

  it('nobody invites above their own role; members and viewers invite nobody; a key invites nobody', async () => {
    const olive = await signUpPerson(app, 'Olive');
    const adam = await signUpPerson(app, 'Adam');
    const mia = await signUpPerson(app, 'Mia');
    const org = await orgWith(olive, 'Ranks', [
      { person: adam, role: 'admin' },
      { person: mia, role: 'member' },
    ]);
    const email = uniqueEmail('new');
    expect(
      await errorCode(adam.browser.trpc.members.invite.mutate({ orgId: org.id, email, role: 'owner' })),
    ).toBe('FORBIDDEN');
    expect(
      await errorCode(mia.browser.trpc.members.invite.mutate({ orgId: org.id, email, role: 'viewer' })),
    ).toBe('FORBIDDEN');
    expect(
      (await adam.browser.trpc.members.invite.mutate({ orgId: org.id, email, role: 'admin' })).role,
    ).toBe('admin');
    expect(
      (await olive.browser.trpc.members.invite.mutate({ orgId: org.id, email, role: 'owner' })).role,
    ).toBe('owner');
    const { key } = await keyFor(olive, org.id, { role: 'admin' });
    expect(
      await errorCode(
        keyClient(app.url, key).members.invite.mutate({ orgId: org.id, email, role: 'viewer' }),
      ),
    ).toBe('SESSION_REQUIRED');
  });

  it('answers the inviter the same whether or not an account uses the address (status and body)', async () => {
    const olive = await signUpPerson(app, 'Olive');
    const known = await signUpPerson(app, 'Known');
    const org = await orgWith(olive, 'Same');
    const post = async (email: string) => {
      const res = await olive.browser.fetch(`${app.url}/trpc/members.invite`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ orgId: org.id, email, role: 'viewer' }),
      });
      const text = await res.text();
      // Only what differs by construction: the new invitation's id, the address and the times.
      const shape = text
        .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'ID')
        .replace(email, 'EMAIL')
        .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, 'TIME');
      return { status: res.status, shape };
    };
    const existing = await post(known.email);
    const unknown = await post(uniqueEmail('nobody'));
    expect(existing.status).toBe(200);
    expect(unknown).toEqual(existing);
  });
});

describe('verified email', () => {
  it('an unverified account signs in and reads its profile, but creates no organization until it verifies', async () => {
    const una = await signUpPerson(app, 'Una', { verified: false });
    expect((await una.browser.trpc.auth.me.query()).user.emailVerified).toBe(false);
    expect(await errorCode(una.browser.trpc.orgs.create.mutate({ name: 'Too soon' }))).toBe(
      'EMAIL_NOT_VERIFIED',
    );
    const second = new Browser(app.url);
    await second.trpc.auth.signIn.mutate({ email: una.email, password: PASSWORD });
    await verifyEmail(una, una.email);
    expect((await una.browser.trpc.auth.me.query()).user.emailVerified).toBe(true);
    expect((await una.browser.trpc.orgs.create.mutate({ name: 'Now' })).role).toBe('owner');
  });

  it('a verification link works once and only for 24 hours; resend gives a new one and kills the old', async () => {
    const una = await signUpPerson(app, 'Una', { verified: false });
    const first = tokenOf((await una.mailbox.take(una.email, 'verify-email')).link);
    await una.browser.trpc.auth.resendVerification.mutate();
    const second = tokenOf((await una.mailbox.take(una.email, 'verify-email')).link);
    expect(second).not.toBe(first);
    expect(await errorCode(una.browser.trpc.auth.verifyEmail.mutate({ token: first }))).toBe('LINK_INVALID');
    app.clock.advance(24 * HOUR);
    try {
      // (A fresh browser: a day without requests would end Una's session as well.)
      expect(await errorCode(new Browser(app.url).trpc.auth.verifyEmail.mutate({ token: second }))).toBe(
        'LINK_INVALID',
      );
    } finally {
      app.clock.advance(-24 * HOUR);
    }
    await una.browser.trpc.auth.resendVerification.mutate();
    const third = tokenOf((await una.mailbox.take(una.email, 'verify-email')).link);
    // No session needed: the link is the credential.
    expect(await new Browser(app.url).trpc.auth.verifyEmail.mutate({ token: third })).toEqual({
      email: una.email,
    });
    expect(await errorCode(una.browser.trpc.auth.verifyEmail.mutate({ token: third }))).toBe('LINK_INVALID');
    expect(await errorCode(una.browser.trpc.auth.verifyEmail.mutate({ token: 'cdv_junk' }))).toBe(
      'LINK_INVALID',
    );
  });

  it('a change of address takes effect only once the new address confirms, needing the current password', async () => {
    const ada = await signUpPerson(app, 'Ada');
    const next = uniqueEmail('ada-new');
    expect(
      await errorCode(
        ada.browser.trpc.auth.changeEmail.mutate({ email: next, currentPassword: 'wrong password!' }),
      ),
    ).toBe('VALIDATION_FAILED');
    await ada.browser.trpc.auth.changeEmail.mutate({ email: next, currentPassword: PASSWORD });
    const me = await ada.browser.trpc.auth.me.query();
    expect(me.user).toMatchObject({ email: ada.email, emailVerified: true });
    expect(me.pendingEmail).toBe(next);
    await verifyEmail(ada, next);
    const after = await ada.browser.trpc.auth.me.query();
    expect(after.user).toMatchObject({ email: next, emailVerified: true });
    expect(after.pendingEmail).toBeNull();
    const again = new Browser(app.url);
    await again.trpc.auth.signIn.mutate({ email: next, password: PASSWORD });
  });

  it('a change to an address someone took in the meantime fails at confirmation', async () => {
    const ada = await signUpPerson(app, 'Ada');
    const contested = uniqueEmail('contested');
    await ada.browser.trpc.auth.changeEmail.mutate({ email: contested, currentPassword: PASSWORD });
    const mail = await ada.mailbox.take(contested, 'verify-email');
    await new Browser(app.url).trpc.auth.signUp.mutate({
      email: contested,
      password: PASSWORD,
      name: 'Quick',
    });
    expect(await errorCode(ada.browser.trpc.auth.verifyEmail.mutate({ token: tokenOf(mail.link) }))).toBe(
      'EMAIL_TAKEN',
    );
    expect((await ada.browser.trpc.auth.me.query()).user.email).toBe(ada.email);
  });
});

describe('passwords', () => {
  it('changing the password ends every other session (and its session tokens), keeps this one and every API key', async () => {
    const kate = await signUpPerson(app, 'Kate');
    const org = await orgWith(kate, 'Keys stay');
    const { key } = await keyFor(kate, org.id, { role: 'viewer' });
    const other = new Browser(app.url);
    await other.trpc.auth.signIn.mutate({ email: kate.email, password: PASSWORD });
    // Session tokens die with the sessions they are bound to, and live on with the one that stays.
    const otherToken = keyClient(
      app.url,
      (await other.trpc.auth.createSessionToken.mutate({ audience: 'phone helper' })).token,
    );
    const thisToken = keyClient(
      app.url,
      (await kate.browser.trpc.auth.createSessionToken.mutate({ audience: 'laptop helper' })).token,
    );
    expect((await otherToken.orgs.list.query()).length).toBe(1);
    expect((await thisToken.orgs.list.query()).length).toBe(1);
    expect(
      await errorCode(
        kate.browser.trpc.auth.changePassword.mutate({
          currentPassword: 'not my password',
          newPassword: NEW_PASSWORD,
        }),
      ),
    ).toBe('VALIDATION_FAILED');
    expect(
      await errorCode(
        kate.browser.trpc.auth.changePassword.mutate({ currentPassword: PASSWORD, newPassword: 'short' }),
      ),
    ).toBe('VALIDATION_FAILED');
    expect(
      await kate.browser.trpc.auth.changePassword.mutate({
        currentPassword: PASSWORD,
        newPassword: NEW_PASSWORD,
      }),
    ).toEqual({
      endedSessions: 1,
    });
    expect(await errorCode(other.trpc.auth.me.query())).toBe('UNAUTHENTICATED');
    expect((await kate.browser.trpc.auth.me.query()).user.id).toBe(kate.id);
    expect(await errorCode(otherToken.orgs.list.query())).toBe('UNAUTHENTICATED');
    expect((await thisToken.orgs.list.query()).length).toBe(1);
    expect((await keyClient(app.url, key).orgs.list.query()).map((o) => o.id)).toEqual([org.id]);
    expect(
      await errorCode(
        new Browser(app.url).trpc.auth.signIn.mutate({ email: kate.email, password: PASSWORD }),
      ),
    ).toBe('INVALID_CREDENTIALS');
    await new Browser(app.url).trpc.auth.signIn.mutate({ email: kate.email, password: NEW_PASSWORD });
  });

  it('a reset ends every session of the account and its session tokens, works once and only for an hour; keys keep working', async () => {
    const kate = await signUpPerson(app, 'Kate');
    const org = await orgWith(kate, 'Reset');
    const { key } = await keyFor(kate, org.id, { role: 'viewer' });
    const other = new Browser(app.url);
    await other.trpc.auth.signIn.mutate({ email: kate.email, password: PASSWORD });
    const sessionToken = keyClient(
      app.url,
      (await kate.browser.trpc.auth.createSessionToken.mutate({ audience: 'helper' })).token,
    );
    expect((await sessionToken.orgs.list.query()).length).toBe(1);
    const anon = new Browser(app.url);
    // An hour-old link is dead.
    await anon.trpc.auth.requestPasswordReset.mutate({ email: kate.email });
    const old = tokenOf((await app.mailbox.take(kate.email, 'reset-password')).link);
    app.clock.advance(HOUR);
    try {
      expect(
        await errorCode(anon.trpc.auth.resetPassword.mutate({ token: old, newPassword: NEW_PASSWORD })),
      ).toBe('LINK_INVALID');
    } finally {
      app.clock.advance(-HOUR);
    }
    await anon.trpc.auth.requestPasswordReset.mutate({ email: kate.email.toUpperCase() });
    const token = tokenOf((await app.mailbox.take(kate.email, 'reset-password')).link);
    expect(await errorCode(anon.trpc.auth.resetPassword.mutate({ token, newPassword: 'short' }))).toBe(
      'VALIDATION_FAILED',
    );
    expect(await anon.trpc.auth.resetPassword.mutate({ token, newPassword: NEW_PASSWORD })).toEqual({
      endedSessions: 2,
    });
    expect(await errorCode(kate.browser.trpc.auth.me.query())).toBe('UNAUTHENTICATED');
    expect(await errorCode(other.trpc.auth.me.query())).toBe('UNAUTHENTICATED');
    expect(await errorCode(sessionToken.orgs.list.query())).toBe('UNAUTHENTICATED');
    expect(
      await errorCode(anon.trpc.auth.resetPassword.mutate({ token, newPassword: 'yet another password' })),
    ).toBe('LINK_INVALID');
    expect((await keyClient(app.url, key).orgs.list.query()).map((o) => o.id)).toEqual([org.id]);
    await new Browser(app.url).trpc.auth.signIn.mutate({ email: kate.email, password: NEW_PASSWORD });
  });

  it('a reset request answers the same status and body whether or not the account exists', async () => {
    const kate = await signUpPerson(app, 'Kate');
    const post = async (email: string) => {
      const res = await fetch(`${app.url}/trpc/auth.requestPasswordReset`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
        body: JSON.stringify({ email }),
      });
      return { status: res.status, body: await res.text() };
    };
    const existing = await post(kate.email);
    const unknown = await post(uniqueEmail('nobody'));
    expect(existing.status).toBe(200);
    expect(unknown).toEqual(existing);
    // And only the real account got mail.
    await app.mailbox.take(kate.email, 'reset-password');
  });
});

describe('tokens at rest and in logs', () => {
  it('no raw token from any mail is in any table, and none is in the logs', async () => {
    await app.deps.mailer.drain();
    const tokens = app.mailbox.all.map((m) => tokenOf(m.link));
    expect(tokens.length).toBeGreaterThan(20);
    for (const t of tokens) expect(t).toMatch(ONE_TIME_TOKEN_PATTERN);
    const conn = app.orm.em.getConnection();
    const tables = await conn.execute<{ table_name: string }[]>(
      "select table_name from information_schema.tables where table_schema = 'public'",
    );
    let dump = '';
    for (const { table_name } of tables)
      dump += JSON.stringify(await conn.execute(`select * from "${table_name}"`));
    expect(dump).toMatch(/"token_hash":"[0-9a-f]{64}"/);
    for (const t of tokens) {
      expect(dump).not.toContain(t);
      expect(dump).not.toContain(t.slice(4, 36));
      expect(app.logs.text).not.toContain(t.slice(4, 36));
    }
  });
});
