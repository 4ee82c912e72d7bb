/**
 * Every role (and a non-member, and anonymous) × every organization, member and project procedure × own
 * organization / another organization, by browser session and by session token (a bearer token bound to the
 * sign-in). Each cell runs against a fresh organization and asserts the exact code.
 * The expected minimum roles are written out here, independently of packages/core's catalogue, so a mistake in
 * the catalogue fails this test instead of being mirrored by it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyFor, orgWith, type Person, people } from './helpers/fixtures.ts';
import { Browser, errorCode, keyClient } from './helpers/http-client.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

type Role = 'owner' | 'admin' | 'member' | 'viewer';
type Caller = Role | `${Role} by token` | 'non-member' | 'anonymous';
const CALLERS: Caller[] = [
  'owner',
  'admin',
  'member',
  'viewer',
  'owner by token',
  'admin by token',
  'member by token',
  'viewer by token',
  'non-member',
  'anonymous',
];
const RANK = ['viewer', 'member', 'admin', 'owner'];

const MINIMUM: Record<string, string> = {
  'orgs.get': 'viewer',
  'orgs.update': 'admin',
  'orgs.delete': 'owner',
  'orgs.setKeyPolicy': 'admin',
  'orgs.setActive': 'viewer',
  'members.list': 'viewer',
  'members.invite': 'admin',
  'members.invitations': 'admin',
  'members.cancelInvitation': 'admin',
  'members.updateRole': 'admin',
  'members.remove': 'admin',
  'members.leave': 'viewer',
  'projects.list': 'viewer',
  'projects.create': 'member',
  'projects.get': 'viewer',
  'projects.update': 'member',
  'projects.delete': 'admin',
  'audit.list': 'admin',
};

/**
 * What a bearer credential (key or session token) may never do, whatever the role: only a signed-in browser session
 * may. Leaving an organization removes the credential's own user, so it joins deleting the organization.
 */
const SESSION_ONLY = new Set([
  'orgs.delete',
  'orgs.setKeyPolicy',
  'orgs.setActive',
  'members.invite',
  'members.leave',
]);

interface Cell {
  orgId: string;
  projectId: string;
  targetUserId: string;
  newcomerEmail: string;
  /** A pending invitation of the cell's organization. */
  invitationId: string;
}

type Call = (b: Browser, c: Cell) => Promise<unknown>;

const PROCEDURES: Record<string, Call> = {
  'orgs.get': (b, c) => b.trpc.orgs.get.query({ orgId: c.orgId }),
  'orgs.update': (b, c) => b.trpc.orgs.update.mutate({ orgId: c.orgId, name: 'Renamed' }),
  'orgs.delete': (b, c) => b.trpc.orgs.delete.mutate({ orgId: c.orgId }),
  'orgs.setKeyPolicy': (b, c) =>
    b.trpc.orgs.setKeyPolicy.mutate({ orgId: c.orgId, requireExpiry: true, maxLifetimeDays: 90 }),
  'orgs.setActive': (b, c) => b.trpc.orgs.setActive.mutate({ orgId: c.orgId }),
  'members.list': (b, c) => b.trpc.members.list.query({ orgId: c.orgId }),
  'members.invite': (b, c) =>
    b.trpc.members.invite.mutate({ orgId: c.orgId, email: c.newcomerEmail, role: 'viewer' }),
  'members.invitations': (b, c) => b.trpc.members.invitations.query({ orgId: c.orgId }),
  'members.cancelInvitation': (b, c) =>
    b.trpc.members.cancelInvitation.mutate({ orgId: c.orgId, invitationId: c.invitationId }),
  'members.updateRole': (b, c) =>
    b.trpc.members.updateRole.mutate({ orgId: c.orgId, userId: c.targetUserId, role: 'member' }),
  'members.remove': (b, c) => b.trpc.members.remove.mutate({ orgId: c.orgId, userId: c.targetUserId }),
  'members.leave': (b, c) => b.trpc.members.leave.mutate({ orgId: c.orgId }),
  'projects.list': (b, c) => b.trpc.projects.list.query({ orgId: c.orgId }),
  'projects.create': (b, c) => b.trpc.projects.create.mutate({ orgId: c.orgId, name: `P-${Math.random()}` }),
  'projects.get': (b, c) => b.trpc.projects.get.query({ orgId: c.orgId, projectId: c.projectId }),
  'projects.update': (b, c) =>
    b.trpc.projects.update.mutate({ orgId: c.orgId, projectId: c.projectId, name: 'Renamed' }),
  'projects.delete': (b, c) => b.trpc.projects.delete.mutate({ orgId: c.orgId, projectId: c.projectId }),
  'audit.list': (b, c) => b.trpc.audit.list.query({ orgId: c.orgId }),
};

let app: TestApp;
let cast: Record<string, Person>;

beforeAll(async () => {
  app = await startTestApp();
  cast = await people(app, ['Founder', 'Caller', 'Target', 'Newcomer', 'Stranger', 'Other']);
});
afterAll(async () => {
  await app?.close();
});

/** A fresh organization where the caller holds `caller` (if a role), plus a viewer to act on and a project. */
async function freshCell(caller: Caller, target: 'own' | 'other'): Promise<{ cell: Cell; browser: Browser }> {
  const founder = cast.Founder as Person;
  const callerPerson = caller === 'non-member' ? (cast.Stranger as Person) : (cast.Caller as Person);
  const members = [{ person: cast.Target as Person, role: 'viewer' as const }];
  const role = roleOf(caller);
  if (role) members.push({ person: callerPerson, role: role as 'viewer' });
  const own = await orgWith(founder, 'Own', members);
  const ownProject = await founder.browser.trpc.projects.create.mutate({
    orgId: own.id,
    name: `own-${Math.random()}`,
  });
  const browser = caller === 'anonymous' ? new Browser(app.url) : callerPerson.browser;
  if (caller.endsWith(' by token')) {
    // The same person, through a session token of theirs instead of the cookie: no cookie is sent at all.
    const { token } = await callerPerson.browser.trpc.auth.createSessionToken.mutate({ audience: 'matrix' });
    const bearer = new Browser(app.url);
    bearer.headers = { authorization: `Bearer ${token}` };
    return { browser: bearer, cell: await cellFor(own.id, ownProject.id, target) };
  }
  return { browser, cell: await cellFor(own.id, ownProject.id, target) };
}

function roleOf(caller: Caller): Role | null {
  const role = caller.replace(' by token', '');
  return RANK.includes(role) ? (role as Role) : null;
}

/** A pending invitation in `orgId`, sent by `by` (the cancel cells withdraw it). */
async function pendingInvitation(by: Person, orgId: string): Promise<string> {
  const email = `pending-${Math.random()}@example.com`;
  return (await by.browser.trpc.members.invite.mutate({ orgId, email, role: 'viewer' })).id;
}

async function cellFor(ownId: string, ownProjectId: string, target: 'own' | 'other'): Promise<Cell> {
  if (target === 'own') {
    return {
      orgId: ownId,
      projectId: ownProjectId,
      targetUserId: (cast.Target as Person).id,
      newcomerEmail: (cast.Newcomer as Person).email,
      invitationId: await pendingInvitation(cast.Founder as Person, ownId),
    };
  }
  // Another organization the caller is not part of (the stranger is in one of its own, which changes nothing).
  const other = await orgWith(cast.Other as Person, 'Other', [
    { person: cast.Target as Person, role: 'viewer' },
  ]);
  const otherProject = await (cast.Other as Person).browser.trpc.projects.create.mutate({
    orgId: other.id,
    name: 'theirs',
  });
  return {
    orgId: other.id,
    projectId: otherProject.id,
    targetUserId: (cast.Target as Person).id,
    newcomerEmail: (cast.Newcomer as Person).email,
    invitationId: await pendingInvitation(cast.Other as Person, other.id),
  };
}

function expected(procedure: string, caller: Caller, target: 'own' | 'other'): string {
  if (caller === 'anonymous') return 'UNAUTHENTICATED';
  const byToken = caller.endsWith(' by token');
  // orgs.setActive is session-only before it looks at any organization.
  if (byToken && procedure === 'orgs.setActive') return 'SESSION_REQUIRED';
  const role = roleOf(caller);
  if (role === null || target === 'other') return 'NOT_FOUND';
  if (byToken && SESSION_ONLY.has(procedure)) return 'SESSION_REQUIRED';
  const minimum = MINIMUM[procedure] ?? 'owner';
  return RANK.indexOf(role) >= RANK.indexOf(minimum) ? 'OK' : 'FORBIDDEN';
}

describe.each(Object.keys(PROCEDURES))('%s', (procedure) => {
  const call = PROCEDURES[procedure] as Call;
  for (const target of ['own', 'other'] as const) {
    it.each(CALLERS)(`${target} organization, caller %s`, async (caller) => {
      const { browser, cell } = await freshCell(caller, target);
      expect(await errorCode(call(browser, cell))).toBe(expected(procedure, caller, target));
    });
  }
});

describe('key callers: an admin key of the organization’s owner', () => {
  it.each(Object.keys(PROCEDURES))('%s', async (procedure) => {
    const { cell } = await freshCell('owner', 'own');
    const founder = cast.Founder as Person;
    const key = await keyFor(founder, cell.orgId, {
      role: 'admin',
      name: `matrix ${procedure}`,
      orgIds: [cell.orgId],
      expiresInDays: 30,
    });
    const viaKey = { trpc: keyClient(app.url, key.key) } as unknown as Browser;
    const call = PROCEDURES[procedure] as Call;
    const minimum = MINIMUM[procedure] ?? 'owner';
    const expectedCode = SESSION_ONLY.has(procedure)
      ? 'SESSION_REQUIRED'
      : RANK.indexOf('admin') >= RANK.indexOf(minimum)
        ? 'OK'
        : 'FORBIDDEN';
    expect(await errorCode(call(viaKey, cell))).toBe(expectedCode);
  });
});

describe('tenant isolation inside one’s own organization', () => {
  it.each(['projects.get', 'projects.update', 'projects.delete'])(
    '%s with another organization’s project id answers NOT_FOUND, exactly like a missing one',
    async (procedure) => {
      const { browser, cell } = await freshCell('owner', 'own');
      const other = await orgWith(cast.Other as Person, 'Elsewhere');
      const theirs = await (cast.Other as Person).browser.trpc.projects.create.mutate({
        orgId: other.id,
        name: 'secret',
      });
      const call = PROCEDURES[procedure] as Call;
      const foreign = await errorCode(call(browser, { ...cell, projectId: theirs.id }));
      const missing = await errorCode(
        call(browser, { ...cell, projectId: '00000000-0000-4000-8000-000000000000' }),
      );
      expect(foreign).toBe('NOT_FOUND');
      expect(missing).toBe('NOT_FOUND');
      // And the other organization's project is untouched.
      expect(
        (
          await (cast.Other as Person).browser.trpc.projects.get.query({
            orgId: other.id,
            projectId: theirs.id,
          })
        ).name,
      ).toBe('secret');
    },
  );
});

describe('account-level procedures', () => {
  it('orgs.create and orgs.list need a signed-in user', async () => {
    const anon = new Browser(app.url);
    expect(await errorCode(anon.trpc.orgs.create.mutate({ name: 'x' }))).toBe('UNAUTHENTICATED');
    expect(await errorCode(anon.trpc.orgs.list.query())).toBe('UNAUTHENTICATED');
    expect(await errorCode(anon.trpc.auth.me.query())).toBe('UNAUTHENTICATED');
    expect(await errorCode(anon.trpc.sessions.list.query())).toBe('UNAUTHENTICATED');
  });

  it('the invitee’s and password procedures need a signed-in user', async () => {
    const anon = new Browser(app.url);
    const invitationId = '00000000-0000-4000-8000-000000000000';
    expect(await errorCode(anon.trpc.invitations.list.query())).toBe('UNAUTHENTICATED');
    expect(await errorCode(anon.trpc.invitations.accept.mutate({ invitationId }))).toBe('UNAUTHENTICATED');
    expect(await errorCode(anon.trpc.invitations.decline.mutate({ invitationId }))).toBe('UNAUTHENTICATED');
    expect(
      await errorCode(anon.trpc.auth.changePassword.mutate({ currentPassword: 'x', newPassword: 'y' })),
    ).toBe('UNAUTHENTICATED');
    expect(await errorCode(anon.trpc.auth.resendVerification.mutate())).toBe('UNAUTHENTICATED');
    expect(
      await errorCode(anon.trpc.auth.changeEmail.mutate({ email: 'a@example.com', currentPassword: 'x' })),
    ).toBe('UNAUTHENTICATED');
  });

  it('a session token (a bearer for services) cannot answer invitations or touch the password', async () => {
    const caller = cast.Caller as Person;
    const { token } = await caller.browser.trpc.auth.createSessionToken.mutate({ audience: 'matrix' });
    const bearer = new Browser(app.url);
    bearer.headers = { authorization: `Bearer ${token}` };
    const invitationId = '00000000-0000-4000-8000-000000000000';
    expect(await errorCode(bearer.trpc.invitations.accept.mutate({ invitationId }))).toBe('SESSION_REQUIRED');
    expect(await errorCode(bearer.trpc.invitations.list.query())).toBe('SESSION_REQUIRED');
    expect(
      await errorCode(bearer.trpc.auth.changePassword.mutate({ currentPassword: 'x', newPassword: 'y' })),
    ).toBe('SESSION_REQUIRED');
  });

  it('another organization’s invitation id answers NOT_FOUND to an owner, exactly like a missing one', async () => {
    const { browser, cell } = await freshCell('owner', 'own');
    const theirs = await cellFor(cell.orgId, cell.projectId, 'other');
    const foreign = await errorCode(
      browser.trpc.members.cancelInvitation.mutate({ orgId: cell.orgId, invitationId: theirs.invitationId }),
    );
    const missing = await errorCode(
      browser.trpc.members.cancelInvitation.mutate({
        orgId: cell.orgId,
        invitationId: '00000000-0000-4000-8000-000000000000',
      }),
    );
    expect([foreign, missing]).toEqual(['NOT_FOUND', 'NOT_FOUND']);
  });
});
