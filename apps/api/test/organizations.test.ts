import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptMailedInvitation, invite, orgWith, type Person, people } from './helpers/fixtures.ts';
import { Browser, errorCode, PASSWORD } from './helpers/http-client.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

let app: TestApp;
let p: Record<string, Person>;
const person = (name: string) => p[name] as Person;

beforeAll(async () => {
  app = await startTestApp();
  p = await people(app, ['Olive', 'Adam', 'Mia', 'Vic', 'Nora', 'Owen']);
});
afterAll(async () => {
  await app?.close();
});

describe('organizations', () => {
  it('makes the creator owner, lists my organizations with my role, renames and deletes', async () => {
    const olive = person('Olive').browser;
    const org = await olive.trpc.orgs.create.mutate({ name: '  Acme  ' });
    expect(org).toMatchObject({
      name: 'Acme',
      role: 'owner',
      keyPolicy: { requireExpiry: false, maxLifetimeDays: null },
    });
    await invite(person('Olive'), org.id, person('Vic'), 'viewer');
    expect((await person('Vic').browser.trpc.orgs.list.query()).find((o) => o.id === org.id)?.role).toBe(
      'viewer',
    );
    expect((await olive.trpc.orgs.update.mutate({ orgId: org.id, name: 'Acme Inc' })).name).toBe('Acme Inc');
    await olive.trpc.orgs.delete.mutate({ orgId: org.id });
    expect((await olive.trpc.orgs.list.query()).some((o) => o.id === org.id)).toBe(false);
    expect(await errorCode(person('Vic').browser.trpc.orgs.get.query({ orgId: org.id }))).toBe('NOT_FOUND');
  });

  it('stores the active organization on the session and returns it from me()', async () => {
    const olive = person('Olive').browser;
    const org = await olive.trpc.orgs.create.mutate({ name: 'Active' });
    await olive.trpc.orgs.setActive.mutate({ orgId: org.id });
    expect((await olive.trpc.auth.me.query()).activeOrganization).toEqual({
      id: org.id,
      name: 'Active',
      role: 'owner',
    });
    // Another session of the same user has its own active organization.
    const second = new Browser(app.url);
    await second.trpc.auth.signIn.mutate({ email: person('Olive').email, password: PASSWORD });
    expect((await second.trpc.auth.me.query()).activeOrganization).toBeNull();
  });

  it('refuses an active organization the user does not belong to', async () => {
    const theirs = await orgWith(person('Owen'), 'Private');
    expect(await errorCode(person('Olive').browser.trpc.orgs.setActive.mutate({ orgId: theirs.id }))).toBe(
      'NOT_FOUND',
    );
  });

  it('validates names', async () => {
    const olive = person('Olive').browser;
    expect(await errorCode(olive.trpc.orgs.create.mutate({ name: '   ' }))).toBe('VALIDATION_FAILED');
    expect(await errorCode(olive.trpc.orgs.create.mutate({ name: 'x'.repeat(101) }))).toBe(
      'VALIDATION_FAILED',
    );
    expect(await errorCode(olive.trpc.orgs.create.mutate({ name: 'bad\u0000name' }))).toBe(
      'VALIDATION_FAILED',
    );
  });
});

describe('members', () => {
  it('invites, lists, changes roles and removes, all audited', async () => {
    const org = await orgWith(person('Olive'), 'Team');
    const olive = person('Olive').browser;
    const invitation = await olive.trpc.members.invite.mutate({
      orgId: org.id,
      email: person('Mia').email.toUpperCase(),
      role: 'member',
    });
    expect(invitation).toMatchObject({ email: person('Mia').email, role: 'member', status: 'pending' });
    const joined = await acceptMailedInvitation(person('Mia'));
    expect(joined).toEqual({ orgId: org.id, role: 'member' });
    expect(
      await errorCode(
        olive.trpc.members.invite.mutate({ orgId: org.id, email: person('Mia').email, role: 'viewer' }),
      ),
    ).toBe('CONFLICT');
    const list = await olive.trpc.members.list.query({ orgId: org.id });
    expect(list.map((m) => [m.name, m.role])).toEqual([
      ['Olive', 'owner'],
      ['Mia', 'member'],
    ]);
    await olive.trpc.members.updateRole.mutate({ orgId: org.id, userId: person('Mia').id, role: 'viewer' });
    await olive.trpc.members.remove.mutate({ orgId: org.id, userId: person('Mia').id });
    expect(await errorCode(person('Mia').browser.trpc.orgs.get.query({ orgId: org.id }))).toBe('NOT_FOUND');
    const audit = await olive.trpc.audit.list.query({ orgId: org.id });
    expect(audit.items.map((e) => e.action)).toEqual([
      'member.removed',
      'member.role_changed',
      'invitation.accepted',
      'invitation.created',
      'org.created',
    ]);
    expect(audit.items[1]?.metadata).toEqual({ from: 'member', to: 'viewer' });
    expect(audit.items[0]).toMatchObject({
      actorUserId: person('Olive').id,
      actorName: 'Olive',
      targetId: person('Mia').id,
    });
    expect(audit.items[0]?.ip).toMatch(/127\.0\.0\.1/);
  });

  it('lets nobody grant a role above their own, and only owners grant or remove owners', async () => {
    const org = await orgWith(person('Olive'), 'Ranks', [
      { person: person('Adam'), role: 'admin' },
      { person: person('Mia'), role: 'member' },
    ]);
    const adam = person('Adam').browser;
    expect(
      await errorCode(
        adam.trpc.members.invite.mutate({ orgId: org.id, email: person('Vic').email, role: 'owner' }),
      ),
    ).toBe('FORBIDDEN');
    expect(
      await errorCode(
        adam.trpc.members.updateRole.mutate({ orgId: org.id, userId: person('Mia').id, role: 'owner' }),
      ),
    ).toBe('FORBIDDEN');
    expect(
      await errorCode(
        adam.trpc.members.updateRole.mutate({ orgId: org.id, userId: person('Olive').id, role: 'viewer' }),
      ),
    ).toBe('FORBIDDEN');
    expect(
      await errorCode(adam.trpc.members.remove.mutate({ orgId: org.id, userId: person('Olive').id })),
    ).toBe('FORBIDDEN');
    // Within their own rank an admin may act.
    expect(
      (await adam.trpc.members.updateRole.mutate({ orgId: org.id, userId: person('Mia').id, role: 'admin' }))
        .role,
    ).toBe('admin');
    // An owner may make another owner.
    expect(
      (
        await person('Olive').browser.trpc.members.updateRole.mutate({
          orgId: org.id,
          userId: person('Adam').id,
          role: 'owner',
        })
      ).role,
    ).toBe('owner');
  });

  it('never lets the last owner be demoted, removed or leave', async () => {
    const org = await orgWith(person('Olive'), 'Solo', [{ person: person('Adam'), role: 'admin' }]);
    const olive = person('Olive').browser;
    expect(
      await errorCode(
        olive.trpc.members.updateRole.mutate({ orgId: org.id, userId: person('Olive').id, role: 'admin' }),
      ),
    ).toBe('LAST_OWNER');
    expect(
      await errorCode(olive.trpc.members.remove.mutate({ orgId: org.id, userId: person('Olive').id })),
    ).toBe('LAST_OWNER');
    expect(await errorCode(olive.trpc.members.leave.mutate({ orgId: org.id }))).toBe('LAST_OWNER');
    await olive.trpc.members.updateRole.mutate({ orgId: org.id, userId: person('Adam').id, role: 'owner' });
    await olive.trpc.members.leave.mutate({ orgId: org.id });
    expect(await errorCode(olive.trpc.orgs.get.query({ orgId: org.id }))).toBe('NOT_FOUND');
  });

  it('keeps an owner even when two owners demote each other at the same moment', async () => {
    const org = await orgWith(person('Olive'), 'Race', [{ person: person('Owen'), role: 'owner' }]);
    const results = await Promise.all([
      errorCode(
        person('Olive').browser.trpc.members.updateRole.mutate({
          orgId: org.id,
          userId: person('Owen').id,
          role: 'admin',
        }),
      ),
      errorCode(
        person('Owen').browser.trpc.members.updateRole.mutate({
          orgId: org.id,
          userId: person('Olive').id,
          role: 'admin',
        }),
      ),
    ]);
    // The organization row lock serialises the two: the second sees itself demoted and the owner count at one.
    expect(results.sort()).toEqual(['FORBIDDEN', 'OK']);
    const remaining = await app.orm.em
      .getConnection()
      .execute<{ n: string }[]>(
        "select count(*) as n from memberships where organization_id = ? and role = 'owner'",
        [org.id],
      );
    expect(Number(remaining[0]?.n)).toBe(1);
  });

  it('applies a role change on the member’s very next request', async () => {
    const org = await orgWith(person('Olive'), 'Next', [{ person: person('Nora'), role: 'member' }]);
    const nora = person('Nora').browser;
    await nora.trpc.projects.create.mutate({ orgId: org.id, name: 'Before' });
    await person('Olive').browser.trpc.members.updateRole.mutate({
      orgId: org.id,
      userId: person('Nora').id,
      role: 'viewer',
    });
    expect(await errorCode(nora.trpc.projects.create.mutate({ orgId: org.id, name: 'After' }))).toBe(
      'FORBIDDEN',
    );
    await person('Olive').browser.trpc.members.remove.mutate({ orgId: org.id, userId: person('Nora').id });
    expect(await errorCode(nora.trpc.projects.list.query({ orgId: org.id }))).toBe('NOT_FOUND');
  });

  it('tells a forbidden caller which role is needed', async () => {
    const org = await orgWith(person('Olive'), 'Explain', [{ person: person('Vic'), role: 'viewer' }]);
    const res = await person('Vic').browser.fetch(`${app.url}/trpc/projects.create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ orgId: org.id, name: 'x' }),
    });
    expect(res.status).toBe(403);
    const body = (await res.json()) as {
      error: { message: string; data: { code: string; requiredRole: string } };
    };
    expect(body.error.data).toMatchObject({ code: 'FORBIDDEN', requiredRole: 'member' });
    expect(body.error.message).toBe(
      'This action (projects:write) needs the member role; your role is viewer.',
    );
  });
});

describe('projects', () => {
  it('creates, lists with pagination, gets, updates and deletes', async () => {
    const org = await orgWith(person('Olive'), 'Projects');
    const olive = person('Olive').browser;
    for (let i = 0; i < 5; i++)
      await olive.trpc.projects.create.mutate({
        orgId: org.id,
        name: `p${i}`,
        description: i === 0 ? 'first' : null,
      });
    const page1 = await olive.trpc.projects.list.query({ orgId: org.id, limit: 2 });
    const page3 = await olive.trpc.projects.list.query({ orgId: org.id, limit: 2, offset: 4 });
    expect(page1.total).toBe(5);
    expect(page1.items.map((x) => x.name)).toEqual(['p0', 'p1']);
    expect(page3.items.map((x) => x.name)).toEqual(['p4']);
    const first = page1.items[0];
    if (!first) throw new Error('missing project');
    expect(await olive.trpc.projects.get.query({ orgId: org.id, projectId: first.id })).toMatchObject({
      description: 'first',
    });
    const updated = await olive.trpc.projects.update.mutate({
      orgId: org.id,
      projectId: first.id,
      description: null,
    });
    expect(updated).toMatchObject({ name: 'p0', description: null });
    await olive.trpc.projects.delete.mutate({ orgId: org.id, projectId: first.id });
    expect(await errorCode(olive.trpc.projects.get.query({ orgId: org.id, projectId: first.id }))).toBe(
      'NOT_FOUND',
    );
  });

  it('answers 409 for a duplicate name and loses nothing', async () => {
    const org = await orgWith(person('Olive'), 'Dupes');
    const olive = person('Olive').browser;
    await olive.trpc.projects.create.mutate({ orgId: org.id, name: 'same' });
    expect(await errorCode(olive.trpc.projects.create.mutate({ orgId: org.id, name: 'same' }))).toBe(
      'CONFLICT',
    );
    expect((await olive.trpc.projects.list.query({ orgId: org.id })).total).toBe(1);
  });

  it('caps page sizes and rejects bad ids', async () => {
    const org = await orgWith(person('Olive'), 'Caps');
    const olive = person('Olive').browser;
    expect(await errorCode(olive.trpc.projects.list.query({ orgId: org.id, limit: 1000 }))).toBe(
      'VALIDATION_FAILED',
    );
    expect(await errorCode(olive.trpc.projects.get.query({ orgId: org.id, projectId: 'nope' }))).toBe(
      'VALIDATION_FAILED',
    );
    expect(await errorCode(olive.trpc.projects.list.query({ orgId: 'not-a-uuid' }))).toBe(
      'VALIDATION_FAILED',
    );
  });

  it('ignores fields a caller may not set (organization, id) in the body', async () => {
    const org = await orgWith(person('Olive'), 'Mass');
    const other = await orgWith(person('Owen'), 'Victim');
    const res = await person('Olive').browser.fetch(`${app.url}/trpc/projects.create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        orgId: org.id,
        name: 'sneaky',
        organization: other.id,
        id: '00000000-0000-4000-8000-000000000001',
      }),
    });
    expect(res.status).toBe(200);
    const created = ((await res.json()) as { result: { data: { id: string; orgId: string } } }).result.data;
    expect(created.orgId).toBe(org.id);
    expect(created.id).not.toBe('00000000-0000-4000-8000-000000000001');
    expect((await person('Owen').browser.trpc.projects.list.query({ orgId: other.id })).total).toBe(0);
  });
});

describe('audit log', () => {
  it('records sign-in success and failure, and sign-out, with IP and user agent', async () => {
    const browser = new Browser(app.url);
    browser.headers['user-agent'] = 'AuditAgent/2';
    await errorCode(
      browser.trpc.auth.signIn.mutate({ email: person('Vic').email, password: 'not the password' }),
    );
    await browser.trpc.auth.signIn.mutate({ email: person('Vic').email, password: PASSWORD });
    await browser.trpc.auth.signOut.mutate();
    const rows = await app.orm.em
      .getConnection()
      .execute<{ action: string; actor_type: string; user_agent: string; ip: string; target_id: string }[]>(
        "select action, actor_type, user_agent, ip, target_id from audit_events where user_agent = 'AuditAgent/2' order by created_at",
      );
    expect(rows.map((r) => r.action)).toEqual(['auth.sign_in_failed', 'auth.sign_in', 'auth.sign_out']);
    expect(rows[0]).toMatchObject({ actor_type: 'anonymous', target_id: person('Vic').id });
    expect(rows.every((r) => r.ip.includes('127.0.0.1'))).toBe(true);
  });

  it('paginates newest first with a cursor', async () => {
    const org = await orgWith(person('Olive'), 'Paged');
    const olive = person('Olive').browser;
    for (let i = 0; i < 7; i++) await olive.trpc.projects.create.mutate({ orgId: org.id, name: `a${i}` });
    const first = await olive.trpc.audit.list.query({ orgId: org.id, limit: 3 });
    const second = await olive.trpc.audit.list.query({
      orgId: org.id,
      limit: 3,
      cursor: first.nextCursor ?? '',
    });
    const third = await olive.trpc.audit.list.query({
      orgId: org.id,
      limit: 3,
      cursor: second.nextCursor ?? '',
    });
    const all = [...first.items, ...second.items, ...third.items];
    expect(all).toHaveLength(8);
    expect(new Set(all.map((e) => e.id)).size).toBe(8);
    expect(all.at(-1)?.action).toBe('org.created');
    expect(third.nextCursor).toBeNull();
    expect(await errorCode(olive.trpc.audit.list.query({ orgId: org.id, cursor: 'garbage' }))).toBe(
      'VALIDATION_FAILED',
    );
  });
});
