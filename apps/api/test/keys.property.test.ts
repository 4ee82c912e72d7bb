/**
 * Property: across generated organizations, roles, scopes and demotions, no key call ever succeeds beyond
 * min(key role, creator's current role) — and every call within it does succeed. Real HTTP, real database.
 * The oracle below is written independently of packages/core.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invite, keyFor, orgWith, type Person, people } from './helpers/fixtures.ts';
import { errorCode, keyClient } from './helpers/http-client.ts';
import { rest } from './helpers/rest.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

const RANK = ['viewer', 'member', 'admin', 'owner'] as const;
type Role = (typeof RANK)[number];
type KeyRole = 'viewer' | 'member' | 'admin';
const rank = (r: Role) => RANK.indexOf(r);

let app: TestApp;
let owner: Person;

beforeAll(async () => {
  app = await startTestApp();
  owner = (await people(app, ['Owner'])).Owner as Person;
});
afterAll(async () => {
  await app?.close();
});

interface Action {
  name: string;
  needs: Role;
  call: (key: string, orgId: string) => Promise<boolean>;
}

const ok = async (p: Promise<unknown>) => (await errorCode(p)) === 'OK';
const restOk = async (p: Promise<{ status: number }>) => (await p).status < 300;

async function throwaway(orgId: string): Promise<string> {
  return (await owner.browser.trpc.projects.create.mutate({ orgId, name: `t-${Math.random()}` })).id;
}

const ACTIONS: Action[] = [
  {
    name: 'projects.list (REST)',
    needs: 'viewer',
    call: (k, o) => restOk(rest(app.url, k, 'GET', `/orgs/${o}/projects`)),
  },
  {
    name: 'members.list (tRPC)',
    needs: 'viewer',
    call: (k, o) => ok(keyClient(app.url, k).members.list.query({ orgId: o })),
  },
  {
    name: 'projects.create (REST)',
    needs: 'member',
    call: (k, o) => restOk(rest(app.url, k, 'POST', `/orgs/${o}/projects`, { name: `p-${Math.random()}` })),
  },
  {
    name: 'projects.delete (REST)',
    needs: 'admin',
    call: async (k, o) => restOk(rest(app.url, k, 'DELETE', `/orgs/${o}/projects/${await throwaway(o)}`)),
  },
  {
    name: 'audit.list (tRPC)',
    needs: 'admin',
    call: (k, o) => ok(keyClient(app.url, k).audit.list.query({ orgId: o })),
  },
  {
    name: 'orgs.update (tRPC)',
    needs: 'admin',
    call: (k, o) => ok(keyClient(app.url, k).orgs.update.mutate({ orgId: o, name: 'x' })),
  },
];

const roleArb = fc.constantFrom<Role>(...RANK);
const membershipArb = fc.option(roleArb, { nil: null });
const scenarioArb = fc
  .record({
    roleA: roleArb,
    roleB: membershipArb,
    keyRole: fc.constantFrom<KeyRole>('viewer', 'member', 'admin'),
    scope: fc.constantFrom<'none' | 'A' | 'B' | 'AB'>('none', 'A', 'B', 'AB'),
    changes: fc.array(fc.record({ org: fc.constantFrom<'A' | 'B'>('A', 'B'), to: membershipArb }), {
      maxLength: 2,
    }),
  })
  // The creator must hold the key's role in the active organization (A) at creation, and belong to every
  // organization in the scope.
  .filter(
    (s) => rank(s.roleA) >= rank(s.keyRole) && (s.roleB !== null || (s.scope !== 'B' && s.scope !== 'AB')),
  );

describe('key capping (property)', () => {
  it('no key call ever succeeds beyond min(key role, creator’s current role), and every call within it does', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (s) => {
        const creator = (await people(app, ['Creator'])).Creator as Person;
        const orgs = {
          A: (await orgWith(owner, 'A', [{ person: creator, role: s.roleA }])).id,
          B: (await orgWith(owner, 'B', s.roleB ? [{ person: creator, role: s.roleB }] : [])).id,
        };
        const current: Record<'A' | 'B', Role | null> = { A: s.roleA, B: s.roleB };
        const scope = s.scope === 'none' ? undefined : s.scope === 'AB' ? [orgs.A, orgs.B] : [orgs[s.scope]];
        const { key } = await keyFor(creator, orgs.A, {
          role: s.keyRole,
          ...(scope ? { orgIds: scope } : {}),
        });

        const probe = async () => {
          for (const org of ['A', 'B'] as const) {
            const inScope = s.scope === 'none' || s.scope.includes(org);
            const role = current[org];
            for (const action of ACTIONS) {
              const effective =
                role === null || !inScope ? null : rank(role) < rank(s.keyRole) ? role : s.keyRole;
              const allowed = effective !== null && rank(effective) >= rank(action.needs);
              const succeeded = await action.call(key, orgs[org]);
              expect(
                succeeded,
                `${action.name} in ${org}: key ${s.keyRole}, creator ${role}, scope ${s.scope}`,
              ).toBe(allowed);
            }
          }
        };

        await probe();
        for (const change of s.changes) {
          const orgId = orgs[change.org];
          const was = current[change.org];
          if (change.to === null && was !== null) {
            await owner.browser.trpc.members.remove.mutate({ orgId, userId: creator.id });
          } else if (change.to !== null && was === null) {
            await invite(owner, orgId, creator, change.to);
          } else if (change.to !== null) {
            await owner.browser.trpc.members.updateRole.mutate({
              orgId,
              userId: creator.id,
              role: change.to,
            });
          }
          current[change.org] = change.to;
          // The very next request sees the change: no waiting, no cache expiry.
          await probe();
        }
      }),
      { numRuns: 25, endOnFailure: true },
    );
    // 25 scenarios, each joining people the only way there is (invite, mail, accept): minutes on a loaded machine.
  }, 300_000);
});
