/**
 * Every role (and a non-member, and anonymous) × every organization, member and project procedure × own
 * organization / another organization. Each cell runs against a fresh organization and asserts the exact code.
 * The expected minimum roles are written out here, independently of packages/core's catalogue, so a mistake in
 * the catalogue fails this test instead of being mirrored by it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orgWith, type Person, people } from './helpers/fixtures.ts';
import { Browser, errorCode } from './helpers/http-client.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

type Caller = 'owner' | 'admin' | 'member' | 'viewer' | 'non-member' | 'anonymous';
const CALLERS: Caller[] = ['owner', 'admin', 'member', 'viewer', 'non-member', 'anonymous'];
const RANK = ['viewer', 'member', 'admin', 'owner'];

const MINIMUM: Record<string, string> = {
  'orgs.get': 'viewer',
  'orgs.update': 'admin',
  'orgs.delete': 'owner',
  'orgs.setKeyPolicy': 'admin',
  'orgs.setActive': 'viewer',
  'members.list': 'viewer',
  'members.add': 'admin',
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

interface Cell {
  orgId: string;
  projectId: string;
  targetUserId: string;
  newcomerEmail: string;
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
  'members.add': (b, c) =>
    b.trpc.members.add.mutate({ orgId: c.orgId, email: c.newcomerEmail, role: 'viewer' }),
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
  cast = await people(app.url, ['Founder', 'Caller', 'Target', 'Newcomer', 'Stranger', 'Other']);
});
afterAll(async () => {
  await app?.close();
});

/** A fresh organization where the caller holds `caller` (if a role), plus a viewer to act on and a project. */
async function freshCell(caller: Caller, target: 'own' | 'other'): Promise<{ cell: Cell; browser: Browser }> {
  const founder = cast.Founder as Person;
  const callerPerson = caller === 'non-member' ? (cast.Stranger as Person) : (cast.Caller as Person);
  const members = [{ person: cast.Target as Person, role: 'viewer' as const }];
  if (RANK.includes(caller)) members.push({ person: callerPerson, role: caller as 'viewer' });
  const own = await orgWith(founder, 'Own', members);
  const ownProject = await founder.browser.trpc.projects.create.mutate({
    orgId: own.id,
    name: `own-${Math.random()}`,
  });
  const browser = caller === 'anonymous' ? new Browser(app.url) : callerPerson.browser;
  if (target === 'own') {
    return {
      browser,
      cell: {
        orgId: own.id,
        projectId: ownProject.id,
        targetUserId: (cast.Target as Person).id,
        newcomerEmail: (cast.Newcomer as Person).email,
      },
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
    browser,
    cell: {
      orgId: other.id,
      projectId: otherProject.id,
      targetUserId: (cast.Target as Person).id,
      newcomerEmail: (cast.Newcomer as Person).email,
    },
  };
}

function expected(procedure: string, caller: Caller, target: 'own' | 'other'): string {
  if (caller === 'anonymous') return 'UNAUTHENTICATED';
  if (caller === 'non-member' || target === 'other') return 'NOT_FOUND';
  const minimum = MINIMUM[procedure] ?? 'owner';
  return RANK.indexOf(caller) >= RANK.indexOf(minimum) ? 'OK' : 'FORBIDDEN';
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
});
