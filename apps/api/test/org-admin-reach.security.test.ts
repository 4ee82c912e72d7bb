/**
 * How far an organization's admin — and a key — reaches, attacked over raw HTTP as in the security review:
 * an admin of one organization acts on other members' keys in that organization only (per-org last use, a
 * per-organization cut-off instead of a global revoke, no IP or user agent of the key's use elsewhere), a key cannot
 * take its creator out of an organization, and a scoped key lists only the organizations it may act on.
 */
import { KEY_USAGE_WRITE_INTERVAL_MS } from '@crowdee/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyFor, orgWith, type Person, people } from './helpers/fixtures.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

let app: TestApp;
let cast: Record<'Alice' | 'Carl' | 'Bob' | 'Dave', Person>;

beforeAll(async () => {
  // Behind a trusted proxy, so each request can say which client address it comes from.
  app = await startTestApp({ config: { trustedProxies: ['loopback'] } });
  cast = (await people(app, ['Alice', 'Carl', 'Bob', 'Dave'])) as typeof cast;
});
afterAll(async () => {
  await app?.close();
});

interface Raw {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: a raw HTTP body, asserted field by field
  body: any;
  text: string;
}

/** A raw tRPC call: a query by GET, a mutation by POST; with a bearer key or a person's session cookie. */
async function trpc(
  as: { key: string } | Person,
  kind: 'query' | 'mutation',
  path: string,
  input: unknown,
  headers: Record<string, string> = {},
): Promise<Raw> {
  const auth: Record<string, string> = 'key' in as ? { authorization: `Bearer ${as.key}` } : {};
  const init: RequestInit =
    kind === 'query'
      ? { headers: { ...auth, ...headers } }
      : {
          method: 'POST',
          headers: { ...auth, ...headers, 'content-type': 'application/json' },
          body: JSON.stringify(input),
        };
  const query = input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`;
  const url = kind === 'query' ? `${app.url}/trpc/${path}${query}` : `${app.url}/trpc/${path}`;
  const res = 'key' in as ? await fetch(url, init) : await as.browser.fetch(url, init);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, text };
}

/** A script's REST call with a key, from a given client address and user agent. */
async function restCall(key: string, method: string, path: string, from: string, agent = 'script/1.0') {
  const res = await fetch(`${app.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'x-forwarded-for': from, 'user-agent': agent },
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const code = (r: Raw) => r.body?.error?.data?.code ?? 'OK';

/** Polls (no fixed sleep) until `check` passes: key use is written off the request path. */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean): Promise<T> {
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Alice owns "Alice Co" and is a member of Carl's "Carl Co"; her unscoped admin key reaches both. */
async function aliceInCarlsOrg() {
  const aliceOrg = await orgWith(cast.Alice, 'Alice Co');
  const carlOrg = await orgWith(cast.Carl, 'Carl Co', [{ person: cast.Alice, role: 'member' }]);
  const key = await keyFor(cast.Alice, aliceOrg.id, { role: 'admin', name: 'deploy' });
  return { aliceOrg: aliceOrg.id, carlOrg: carlOrg.id, key };
}

describe('item 4: an org admin sees a member key’s use in their organization only', () => {
  it('keys.listForOrg shows last use and IP in that organization, never elsewhere', async () => {
    const { aliceOrg, carlOrg, key } = await aliceInCarlsOrg();
    // Alice's key at work in her own organization, from her network.
    expect((await restCall(key.key, 'GET', `/orgs/${aliceOrg}/projects`, '203.0.113.7')).status).toBe(200);
    await eventually(
      () => trpc(cast.Alice, 'query', 'keys.listForOrg', { orgId: aliceOrg }),
      (r) => r.body?.result?.data?.[0]?.lastUsedIp === '203.0.113.7',
    );

    const seenByCarl = await trpc(cast.Carl, 'query', 'keys.listForOrg', { orgId: carlOrg });
    expect(seenByCarl.status).toBe(200);
    const listed = seenByCarl.body.result.data.find((k: { id: string }) => k.id === key.id);
    expect(listed).toMatchObject({
      effectiveRole: 'member',
      lastUsedAt: null,
      lastUsedIp: null,
      cutOffs: [],
    });
    expect(seenByCarl.text).not.toContain('203.0.113.7');
    expect(seenByCarl.text).not.toContain(aliceOrg);

    // Used in Carl's organization: now Carl sees that use, and only that one.
    app.clock.advance(KEY_USAGE_WRITE_INTERVAL_MS + 1);
    expect((await restCall(key.key, 'GET', `/orgs/${carlOrg}/projects`, '198.51.100.9')).status).toBe(200);
    app.clock.advance(KEY_USAGE_WRITE_INTERVAL_MS + 1);
    expect((await restCall(key.key, 'GET', `/orgs/${aliceOrg}/projects`, '203.0.113.50')).status).toBe(200);
    await eventually(
      () => trpc(cast.Alice, 'query', 'keys.listForOrg', { orgId: aliceOrg }),
      (r) => r.body?.result?.data?.[0]?.lastUsedIp === '203.0.113.50',
    );
    const later = await eventually(
      () => trpc(cast.Carl, 'query', 'keys.listForOrg', { orgId: carlOrg }),
      (r) => r.body?.result?.data?.some((k: { lastUsedIp: string | null }) => k.lastUsedIp !== null),
    );
    expect(later.body.result.data.find((k: { id: string }) => k.id === key.id)?.lastUsedIp).toBe(
      '198.51.100.9',
    );
    expect(later.text).not.toMatch(/203\.0\.113/);
    // The key's owner still sees its last use anywhere.
    const mine = await trpc(cast.Alice, 'query', 'keys.list', undefined);
    expect(mine.body.result.data.find((k: { id: string }) => k.id === key.id)?.lastUsedIp).toBe(
      '203.0.113.50',
    );
  });

  it('shows a scoped key’s scope as this organization only, never the ids of the others', async () => {
    const { aliceOrg, carlOrg } = await aliceInCarlsOrg();
    const scoped = await keyFor(cast.Alice, aliceOrg, {
      role: 'member',
      name: 'two orgs',
      orgIds: [aliceOrg, carlOrg],
    });
    const seen = await trpc(cast.Carl, 'query', 'keys.listForOrg', { orgId: carlOrg });
    expect(seen.body.result.data.find((k: { id: string }) => k.id === scoped.id)?.scope).toEqual([carlOrg]);
    expect(seen.text).not.toContain(aliceOrg);
  });
});

describe('item 4: an org admin’s revoke cuts the key off from that organization only', () => {
  it('the key keeps working elsewhere, is refused at once where it was cut off, and its owner sees by whom and when', async () => {
    const { aliceOrg, carlOrg, key } = await aliceInCarlsOrg();
    // Warm this node's key cache in both organizations first: the cut-off must not wait for it.
    expect((await restCall(key.key, 'GET', `/orgs/${carlOrg}/projects`, '198.51.100.9')).status).toBe(200);
    expect((await restCall(key.key, 'GET', `/orgs/${aliceOrg}/projects`, '203.0.113.7')).status).toBe(200);

    const cut = await trpc(cast.Carl, 'mutation', 'keys.revoke', { id: key.id, orgId: carlOrg });
    expect(cut.status).toBe(200);
    expect(cut.body.result.data).toMatchObject({ id: key.id, status: 'revoked', revokedReason: 'admin' });
    expect(cut.text).not.toContain(aliceOrg);

    const inCarls = await restCall(key.key, 'GET', `/orgs/${carlOrg}/projects`, '198.51.100.9');
    expect(inCarls.status).toBe(403);
    expect(inCarls.body.code).toBe('KEY_CUT_OFF');
    expect(code(await trpc(key, 'query', 'projects.list', { orgId: carlOrg }))).toBe('KEY_CUT_OFF');
    expect(code(await trpc(key, 'mutation', 'projects.create', { orgId: carlOrg, name: 'sneak' }))).toBe(
      'KEY_CUT_OFF',
    );
    // Another spelling of the same organization id lands on the same cut-off.
    const upper = await restCall(key.key, 'GET', `/orgs/${carlOrg.toUpperCase()}/projects`, '198.51.100.9');
    expect(upper.body.code).toBe('KEY_CUT_OFF');
    // Still fully working in Alice's own organization, however its id is spelled.
    expect((await restCall(key.key, 'GET', `/orgs/${aliceOrg}/projects`, '203.0.113.7')).status).toBe(200);
    expect(
      (await restCall(key.key, 'GET', `/orgs/${aliceOrg.toUpperCase()}/projects`, '203.0.113.7')).status,
    ).toBe(200);
    const created = await restCall(key.key, 'GET', '/me', '203.0.113.7');
    expect(created.status).toBe(200);
    const reach = created.body.organizations.map((o: { id: string }) => o.id);
    expect(reach).toContain(aliceOrg);
    expect(reach).not.toContain(carlOrg);
    const orgs = await trpc(key, 'query', 'orgs.list', undefined);
    const listedOrgs = orgs.body.result.data.map((o: { id: string }) => o.id);
    expect(listedOrgs).toContain(aliceOrg);
    expect(listedOrgs).not.toContain(carlOrg);

    // Alice sees, in her own key list, which organization cut it off and when; the key itself is still active.
    const mine = await trpc(cast.Alice, 'query', 'keys.list', undefined);
    const listed = mine.body.result.data.find((k: { id: string }) => k.id === key.id);
    expect(listed).toMatchObject({ status: 'active', revokedAt: null });
    expect(listed.cutOffs).toEqual([
      { orgId: carlOrg, orgName: 'Carl Co', at: expect.any(String), reason: 'admin', unusedDays: null },
    ]);

    // Carl's list no longer shows it; cutting off again changes nothing.
    const carlList = await trpc(cast.Carl, 'query', 'keys.listForOrg', { orgId: carlOrg });
    expect(carlList.body.result.data.map((k: { id: string }) => k.id)).not.toContain(key.id);
    const again = await trpc(cast.Carl, 'mutation', 'keys.revoke', { id: key.id, orgId: carlOrg });
    expect(again.status).toBe(200);
    expect(again.body.result.data.cutOffs[0].at).toBe(listed.cutOffs[0].at);

    // Audited in Carl's organization; nothing reaches Alice's.
    const carlAudit = await trpc(cast.Carl, 'query', 'audit.list', { orgId: carlOrg });
    expect(
      carlAudit.body.result.data.items.filter((e: { action: string }) => e.action === 'key.cut_off'),
    ).toHaveLength(1);
    const aliceAudit = await trpc(cast.Alice, 'query', 'audit.list', { orgId: aliceOrg });
    expect(aliceAudit.body.result.data.items.map((e: { action: string }) => e.action)).not.toContain(
      'key.revoked',
    );
  });

  it('a rotation does not undo the cut-off', async () => {
    const { aliceOrg, carlOrg, key } = await aliceInCarlsOrg();
    await trpc(cast.Carl, 'mutation', 'keys.revoke', { id: key.id, orgId: carlOrg });
    const rotated = await trpc(cast.Alice, 'mutation', 'keys.rotate', { id: key.id, gracePeriod: 'now' });
    expect(rotated.status).toBe(200);
    const replacement: string = rotated.body.result.data.key;
    expect(rotated.body.result.data.apiKey.cutOffs.map((c: { orgId: string }) => c.orgId)).toEqual([carlOrg]);
    expect((await restCall(replacement, 'GET', `/orgs/${carlOrg}/projects`, '198.51.100.9')).body.code).toBe(
      'KEY_CUT_OFF',
    );
    expect((await restCall(replacement, 'GET', `/orgs/${aliceOrg}/projects`, '203.0.113.7')).status).toBe(
      200,
    );
  });

  it('the key’s owner still revokes it everywhere, from either list', async () => {
    const { aliceOrg, carlOrg, key } = await aliceInCarlsOrg();
    const revoked = await trpc(cast.Alice, 'mutation', 'keys.revoke', { id: key.id, orgId: aliceOrg });
    expect(revoked.body.result.data.status).toBe('revoked');
    for (const org of [aliceOrg, carlOrg]) {
      const r = await restCall(key.key, 'GET', `/orgs/${org}/projects`, '203.0.113.7');
      expect(r.status).toBe(401);
      expect(r.body.code).toBe('KEY_REVOKED');
    }
  });

  it('an admin cannot reach keys that cannot act on their organization, nor act through another one', async () => {
    const { aliceOrg, carlOrg } = await aliceInCarlsOrg();
    const onlyAlices = await keyFor(cast.Alice, aliceOrg, {
      role: 'viewer',
      name: 'scoped',
      orgIds: [aliceOrg],
    });
    const bobOrg = await orgWith(cast.Bob, 'Bob Co');
    const bobsKey = await keyFor(cast.Bob, bobOrg.id, { role: 'viewer', name: 'bob' });
    for (const [id, orgId] of [
      [onlyAlices.id, carlOrg],
      [bobsKey.id, carlOrg],
      [onlyAlices.id, aliceOrg],
      [bobsKey.id, bobOrg.id],
    ] as const) {
      const r = await trpc(cast.Carl, 'mutation', 'keys.revoke', { id, orgId });
      expect(r.status, `${id} in ${orgId}`).toBe(404);
      expect(code(r)).toBe('NOT_FOUND');
    }
    // And a key's holder cannot cut it off for an admin: keys.revoke needs a session.
    expect(code(await trpc(onlyAlices, 'mutation', 'keys.revoke', { id: bobsKey.id, orgId: aliceOrg }))).toBe(
      'SESSION_REQUIRED',
    );
    expect((await restCall(onlyAlices.key, 'GET', `/orgs/${aliceOrg}/projects`, '203.0.113.7')).status).toBe(
      200,
    );
    expect((await restCall(bobsKey.key, 'GET', `/orgs/${bobOrg.id}/projects`, '203.0.113.7')).status).toBe(
      200,
    );
  });
});

describe('item 4: nothing about a key’s use elsewhere reaches another organization’s audit log', () => {
  it('a key revoking itself from Alice’s network leaves no IP or user agent in Carl’s log', async () => {
    const { aliceOrg, carlOrg } = await aliceInCarlsOrg();
    const other = await keyFor(cast.Alice, aliceOrg, { role: 'member', name: 'leaks' });
    const agent = 'alice-private-build-agent/7';
    expect(
      (await restCall(other.key, 'GET', `/orgs/${aliceOrg}/projects`, '203.0.113.99', agent)).status,
    ).toBe(200);
    expect((await restCall(other.key, 'DELETE', '/keys/current', '203.0.113.99', agent)).status).toBe(200);
    // An anonymous leak report of another key, from yet another address.
    const leaked = await keyFor(cast.Alice, aliceOrg, { role: 'viewer', name: 'reported' });
    const report = await fetch(`${app.url}/api/v1/keys/revoke-leaked`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-forwarded-for': '192.0.2.44',
        'user-agent': 'reporter/1',
      },
      body: JSON.stringify({ keys: [leaked.key] }),
    });
    expect(report.status).toBe(200);

    const carlAudit = await trpc(cast.Carl, 'query', 'audit.list', { orgId: carlOrg, limit: 100 });
    const revocations = carlAudit.body.result.data.items.filter(
      (e: { action: string; targetId: string }) =>
        e.action === 'key.revoked' && (e.targetId === other.id || e.targetId === leaked.id),
    );
    expect(revocations).toHaveLength(2);
    for (const e of revocations) expect(e).toMatchObject({ ip: null, userAgent: null });
    expect(carlAudit.text).not.toContain('203.0.113.99');
    expect(carlAudit.text).not.toContain(agent);
    expect(carlAudit.text).not.toContain('192.0.2.44');
  });
});

describe('item 5: a key cannot take its creator out of an organization', () => {
  it('members.leave through a key answers SESSION_REQUIRED, and the creator stays', async () => {
    const bobOrg = await orgWith(cast.Bob, 'Bob Team', [{ person: cast.Alice, role: 'admin' }]);
    for (const role of ['viewer', 'admin'] as const) {
      const key = await keyFor(cast.Alice, bobOrg.id, { role, name: `${role} key` });
      const left = await trpc(key, 'mutation', 'members.leave', { orgId: bobOrg.id });
      expect(left.status).toBe(403);
      expect(code(left)).toBe('SESSION_REQUIRED');
      // In a batch too.
      const batched = await fetch(`${app.url}/trpc/members.leave,members.leave?batch=1`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ 0: { orgId: bobOrg.id }, 1: { orgId: bobOrg.id } }),
      });
      expect(batched.status).toBe(403);
    }
    const members = await trpc(cast.Bob, 'query', 'members.list', { orgId: bobOrg.id });
    expect(members.body.result.data.map((m: { userId: string }) => m.userId)).toContain(cast.Alice.id);
    // A signed-in member still leaves.
    expect(code(await trpc(cast.Alice, 'mutation', 'members.leave', { orgId: bobOrg.id }))).toBe('OK');
  });
});

describe('item 6: a scoped key lists only the organizations in its scope, with its own role', () => {
  it('orgs.list through a key: its scope only, the key’s effective role, never the creator’s', async () => {
    const aliceOrg = await orgWith(cast.Alice, 'Alice Home');
    const carlOrg = await orgWith(cast.Carl, 'Carl Shop', [{ person: cast.Alice, role: 'member' }]);
    const daveOrg = await orgWith(cast.Dave, 'Dave Lab', [{ person: cast.Alice, role: 'admin' }]);
    const scoped = await keyFor(cast.Alice, aliceOrg.id, {
      role: 'viewer',
      name: 'A only',
      orgIds: [aliceOrg.id],
    });
    const listed = await trpc(scoped, 'query', 'orgs.list', undefined);
    expect(listed.status).toBe(200);
    expect(listed.body.result.data.map((o: { id: string; role: string }) => [o.id, o.role])).toEqual([
      [aliceOrg.id, 'viewer'],
    ]);
    expect(listed.text).not.toContain(carlOrg.id);
    expect(listed.text).not.toContain(daveOrg.id);

    const unscoped = await keyFor(cast.Alice, aliceOrg.id, { role: 'admin', name: 'all' });
    const all = await trpc(unscoped, 'query', 'orgs.list', undefined);
    const roles = Object.fromEntries(
      all.body.result.data.map((o: { id: string; role: string }) => [o.id, o.role]),
    );
    expect(roles).toMatchObject({ [aliceOrg.id]: 'admin', [carlOrg.id]: 'member', [daveOrg.id]: 'admin' });
    expect(Object.values(roles)).not.toContain('owner');
    // The session still sees the creator's own roles.
    const session = await trpc(cast.Alice, 'query', 'orgs.list', undefined);
    const own = Object.fromEntries(
      session.body.result.data.map((o: { id: string; role: string }) => [o.id, o.role]),
    );
    expect(own[aliceOrg.id]).toBe('owner');
  });
});
