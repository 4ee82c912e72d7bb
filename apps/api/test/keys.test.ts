import { permissionsOf } from '@crowdee/core';
import { countStatements } from '@crowdee/db';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { keyFor, orgWith, type Person, people } from './helpers/fixtures.ts';
import { Browser, errorCode, keyClient, PASSWORD } from './helpers/http-client.ts';
import { type Problem, rest } from './helpers/rest.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

let app: TestApp;
let p: Record<string, Person> = {};
/** People are made fresh for each test: an unscoped key reaches every organization its creator is in. */
const person = (name: string) => p[name] as Person;
/** Every raw key this file sees, for the final scan of tables and logs. */
const issued: string[] = [];
const DAY = 86_400_000;

beforeAll(async () => {
  app = await startTestApp();
});
beforeEach(async () => {
  p = await people(app, ['Kate', 'Adam', 'Mia', 'Vic', 'Out']);
});
afterAll(async () => {
  await app?.close();
});

async function create(who: Person, orgId: string, input: Parameters<typeof keyFor>[2]) {
  const k = await keyFor(who, orgId, input);
  issued.push(k.key);
  return k;
}

describe('keys.create', () => {
  it('returns the full key once, in the documented format, with metadata', async () => {
    const org = await orgWith(person('Kate'), 'Acme');
    await person('Kate').browser.trpc.orgs.setActive.mutate({ orgId: org.id });
    const created = await person('Kate').browser.trpc.keys.create.mutate({
      name: 'CI deploy',
      role: 'member',
      expiresInDays: 30,
    });
    issued.push(created.key);
    expect(created.key).toMatch(/^cdk_[0-9A-Za-z]{36}$/);
    expect(created.apiKey).toMatchObject({
      name: 'CI deploy',
      role: 'member',
      scope: null,
      status: 'active',
      // Never used, but created just now: not stale (staleness counts from creation when never used).
      stale: false,
      lastUsedAt: null,
      creator: { id: person('Kate').id, name: 'Kate' },
    });
    expect(created.apiKey.hint).toBe(`${created.key.slice(0, 8)}…${created.key.slice(-4)}`);
    expect(new Date(created.apiKey.expiresAt ?? 0).getTime() - Date.parse(created.apiKey.createdAt)).toBe(
      30 * DAY,
    );
    const listed = await person('Kate').browser.trpc.keys.list.query();
    expect(JSON.stringify(listed)).not.toContain(created.key);
    expect(listed.find((k) => k.id === created.apiKey.id)?.hint).toBe(created.apiKey.hint);
  });

  it('needs an active organization and caps the role by the creator’s role there', async () => {
    const org = await orgWith(person('Kate'), 'Caps', [{ person: person('Vic'), role: 'viewer' }]);
    const fresh = await people(app, ['Fresh']);
    expect(
      await errorCode((fresh.Fresh as Person).browser.trpc.keys.create.mutate({ name: 'k', role: 'viewer' })),
    ).toBe('BAD_REQUEST');
    await person('Vic').browser.trpc.orgs.setActive.mutate({ orgId: org.id });
    expect(
      await errorCode(person('Vic').browser.trpc.keys.create.mutate({ name: 'k', role: 'member' })),
    ).toBe('FORBIDDEN');
    expect(await errorCode(person('Vic').browser.trpc.keys.create.mutate({ name: 'k', role: 'admin' }))).toBe(
      'FORBIDDEN',
    );
    const ok = await person('Vic').browser.trpc.keys.create.mutate({ name: 'k', role: 'viewer' });
    issued.push(ok.key);
    // Owners cannot put owner on a key at all: the schema has no such role.
    const res = await person('Kate').browser.fetch(`${app.url}/trpc/keys.create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'k', role: 'owner' }),
    });
    expect(res.status).toBe(400);
  });

  it('scopes only to organizations the creator belongs to', async () => {
    const mine = await orgWith(person('Kate'), 'Mine');
    const theirs = await orgWith(person('Out'), 'Theirs');
    await person('Kate').browser.trpc.orgs.setActive.mutate({ orgId: mine.id });
    expect(
      await errorCode(
        person('Kate').browser.trpc.keys.create.mutate({
          name: 'k',
          role: 'viewer',
          orgIds: [mine.id, theirs.id],
        }),
      ),
    ).toBe('VALIDATION_FAILED');
    expect(
      await errorCode(
        person('Kate').browser.trpc.keys.create.mutate({ name: 'k', role: 'viewer', orgIds: [] }),
      ),
    ).toBe('VALIDATION_FAILED');
    const scoped = await person('Kate').browser.trpc.keys.create.mutate({
      name: 'k',
      role: 'viewer',
      orgIds: [mine.id, mine.id],
    });
    issued.push(scoped.key);
    expect(scoped.apiKey.scope).toEqual([mine.id]);
  });

  it('accepts preset days, a date or no expiry, within the organization’s key policy', async () => {
    const org = await orgWith(person('Kate'), 'Policy');
    const kate = person('Kate').browser;
    await kate.trpc.orgs.setActive.mutate({ orgId: org.id });
    const at = new Date(Date.now() + 10 * DAY).toISOString();
    const dated = await kate.trpc.keys.create.mutate({ name: 'dated', role: 'viewer', expiresAt: at });
    issued.push(dated.key);
    expect(dated.apiKey.expiresAt).toBe(at);
    const forever = await kate.trpc.keys.create.mutate({ name: 'forever', role: 'viewer' });
    issued.push(forever.key);
    expect(forever.apiKey.expiresAt).toBeNull();
    expect(
      await errorCode(
        kate.trpc.keys.create.mutate({ name: 'x', role: 'viewer', expiresInDays: 7, expiresAt: at }),
      ),
    ).toBe('VALIDATION_FAILED');
    expect(
      await errorCode(
        kate.trpc.keys.create.mutate({
          name: 'x',
          role: 'viewer',
          expiresAt: new Date(Date.now() - 1000).toISOString(),
        }),
      ),
    ).toBe('VALIDATION_FAILED');

    await kate.trpc.orgs.setKeyPolicy.mutate({ orgId: org.id, requireExpiry: true, maxLifetimeDays: 30 });
    expect(await errorCode(kate.trpc.keys.create.mutate({ name: 'x', role: 'viewer' }))).toBe(
      'KEY_POLICY_VIOLATION',
    );
    expect(
      await errorCode(kate.trpc.keys.create.mutate({ name: 'x', role: 'viewer', expiresInDays: 60 })),
    ).toBe('KEY_POLICY_VIOLATION');
    const within = await kate.trpc.keys.create.mutate({ name: 'ok', role: 'viewer', expiresInDays: 30 });
    issued.push(within.key);
    // A key scoped elsewhere is not bound by this organization's policy.
    const other = await orgWith(person('Kate'), 'Lax');
    const scoped = await kate.trpc.keys.create.mutate({ name: 'lax', role: 'viewer', orgIds: [other.id] });
    issued.push(scoped.key);
    expect(scoped.apiKey.expiresAt).toBeNull();
  });

  it('lets only admins set the key policy, never through a key, and audits it', async () => {
    const org = await orgWith(person('Kate'), 'PolicyPerms', [{ person: person('Mia'), role: 'member' }]);
    expect(
      await errorCode(
        person('Mia').browser.trpc.orgs.setKeyPolicy.mutate({
          orgId: org.id,
          requireExpiry: true,
          maxLifetimeDays: null,
        }),
      ),
    ).toBe('FORBIDDEN');
    const { key } = await create(person('Kate'), org.id, { role: 'admin' });
    expect(
      await errorCode(
        keyClient(app.url, key).orgs.setKeyPolicy.mutate({
          orgId: org.id,
          requireExpiry: true,
          maxLifetimeDays: null,
        }),
      ),
    ).toBe('SESSION_REQUIRED');
    await person('Kate').browser.trpc.orgs.setKeyPolicy.mutate({
      orgId: org.id,
      requireExpiry: true,
      maxLifetimeDays: 90,
    });
    const audit = await person('Kate').browser.trpc.audit.list.query({ orgId: org.id });
    expect(audit.items.find((e) => e.action === 'org.key_policy_changed')?.metadata).toEqual({
      from: { requireExpiry: false, maxLifetimeDays: null, revokeUnusedAfterDays: null },
      to: { requireExpiry: true, maxLifetimeDays: 90, revokeUnusedAfterDays: null },
    });
  });
});

describe('a key can never manage keys or do owner-only things', () => {
  it('is refused with SESSION_REQUIRED on every key-management procedure', async () => {
    const org = await orgWith(person('Kate'), 'NoMint');
    const { key, id } = await create(person('Kate'), org.id, { role: 'admin' });
    const client = keyClient(app.url, key);
    expect(await errorCode(client.keys.create.mutate({ name: 'minted', role: 'viewer' }))).toBe(
      'SESSION_REQUIRED',
    );
    expect(await errorCode(client.keys.list.query())).toBe('SESSION_REQUIRED');
    expect(await errorCode(client.keys.listForOrg.query({ orgId: org.id }))).toBe('SESSION_REQUIRED');
    expect(await errorCode(client.keys.rotate.mutate({ id, gracePeriod: 'now' }))).toBe('SESSION_REQUIRED');
    expect(await errorCode(client.keys.update.mutate({ id, name: 'renamed' }))).toBe('SESSION_REQUIRED');
    expect(await errorCode(client.keys.revoke.mutate({ id }))).toBe('SESSION_REQUIRED');
    expect(await errorCode(client.orgs.delete.mutate({ orgId: org.id }))).toBe('SESSION_REQUIRED');
    expect(await errorCode(client.orgs.create.mutate({ name: 'x' }))).toBe('SESSION_REQUIRED');
    // An admin key cannot invite its holder (or anyone) in, nor answer invitations or touch the password.
    expect(
      await errorCode(
        client.members.invite.mutate({ orgId: org.id, email: 'in@example.com', role: 'viewer' }),
      ),
    ).toBe('SESSION_REQUIRED');
    expect(await errorCode(client.invitations.list.query())).toBe('SESSION_REQUIRED');
    expect(
      await errorCode(
        client.auth.changePassword.mutate({ currentPassword: PASSWORD, newPassword: 'x'.repeat(12) }),
      ),
    ).toBe('SESSION_REQUIRED');
    // ...but it works on the org procedures with its effective role.
    expect((await client.projects.create.mutate({ orgId: org.id, name: 'via key' })).name).toBe('via key');
    expect((await client.members.list.query({ orgId: org.id })).length).toBe(1);
  });
});

describe('listing and usage', () => {
  it('records last use (time and IP) coalesced to one write a minute, and clears "stale"', async () => {
    const org = await orgWith(person('Kate'), 'Usage');
    const { key, id } = await create(person('Kate'), org.id, { role: 'viewer' });
    let statements = 0;
    const stop = countStatements(app.orm, () => {
      statements++;
    });
    for (let i = 0; i < 20; i++) expect((await rest(app.url, key, 'GET', '/me')).status).toBe(200);
    stop();
    // One load into the cache and one usage write; the other 19 requests cost no statement at all.
    expect(statements).toBeLessThanOrEqual(2);
    // Concurrent verifications of a key that is not cached (an expired entry under load) share one load instead
    // of sending one statement each; all 16 start in the same tick, before any load can finish.
    app.deps.keyCache.clear();
    const knex = app.orm.em.getConnection().getKnex();
    let loads = 0;
    const onQuery = (query: { sql?: string }) => {
      if (query.sql?.includes('from api_keys k')) loads++;
    };
    knex.on('query', onQuery);
    const burst = await Promise.all(
      Array.from({ length: 16 }, () => app.deps.keyVerifier.verify(key, '127.0.0.1')),
    );
    knex.off('query', onQuery);
    expect(new Set(burst.map((k) => k.id))).toEqual(new Set([id]));
    expect(loads).toBe(1);
    const listedKey = async () =>
      (await person('Kate').browser.trpc.keys.list.query()).find((k) => k.id === id);
    // The usage write happens after the answer: poll for it rather than guess how long it takes.
    await expect
      .poll(async () => (await listedKey())?.lastUsedAt, { timeout: 15_000, interval: 50 })
      .not.toBeNull();
    const listed = await listedKey();
    expect(listed?.lastUsedAt).not.toBeNull();
    expect(listed?.lastUsedIp).toMatch(/127\.0\.0\.1/);
    expect(listed?.stale).toBe(false);
    const first = listed?.lastUsedAt;
    app.clock.advance(30_000);
    await rest(app.url, key, 'GET', '/me');
    expect((await person('Kate').browser.trpc.keys.list.query()).find((k) => k.id === id)?.lastUsedAt).toBe(
      first,
    );
    app.clock.advance(31_000);
    await rest(app.url, key, 'GET', '/me');
    await expect
      .poll(async () => (await listedKey())?.lastUsedAt, { timeout: 15_000, interval: 50 })
      .not.toBe(first);
  });

  it('shows admins every key that can act on the organization, with creator and effective role', async () => {
    const org = await orgWith(person('Kate'), 'Overview', [
      { person: person('Adam'), role: 'admin' },
      { person: person('Mia'), role: 'member' },
    ]);
    const elsewhere = await orgWith(person('Mia'), 'MiaOwn');
    const miaKey = await create(person('Mia'), org.id, { role: 'member', name: 'mia-ci' });
    const adamKey = await create(person('Adam'), org.id, {
      role: 'admin',
      name: 'adam-ops',
      orgIds: [org.id],
    });
    await create(person('Mia'), elsewhere.id, {
      role: 'admin',
      name: 'mia-elsewhere',
      orgIds: [elsewhere.id],
    });
    const revoked = await create(person('Mia'), org.id, { role: 'viewer', name: 'mia-old' });
    await person('Mia').browser.trpc.keys.revoke.mutate({ id: revoked.id });

    const list = await person('Adam').browser.trpc.keys.listForOrg.query({ orgId: org.id });
    expect(list.map((k) => [k.name, k.creator.name, k.effectiveRole]).sort()).toEqual(
      [
        ['adam-ops', 'Adam', 'admin'],
        ['mia-ci', 'Mia', 'member'],
      ].sort(),
    );
    expect(list.find((k) => k.id === miaKey.id)?.hint).toMatch(/^cdk_/);
    expect(await errorCode(person('Mia').browser.trpc.keys.listForOrg.query({ orgId: org.id }))).toBe(
      'FORBIDDEN',
    );
    expect(adamKey.id).toBeTruthy();
  });
});

describe('revoke, rename, rotate', () => {
  it('revokes at once; another user’s key is not found; an admin may cut a key off from their org', async () => {
    const org = await orgWith(person('Kate'), 'Revoke', [{ person: person('Mia'), role: 'member' }]);
    const { key, id } = await create(person('Kate'), org.id, { role: 'member' });
    expect((await rest(app.url, key, 'GET', '/me')).status).toBe(200);
    expect(await errorCode(person('Mia').browser.trpc.keys.revoke.mutate({ id }))).toBe('NOT_FOUND');
    const revoked = await person('Kate').browser.trpc.keys.revoke.mutate({ id });
    expect(revoked).toMatchObject({ status: 'revoked', revokedReason: 'settings' });
    const after = await rest<Problem>(app.url, key, 'GET', '/me');
    expect([after.status, after.body.code]).toEqual([401, 'KEY_REVOKED']);

    const miaKey = await create(person('Mia'), org.id, { role: 'member' });
    expect(
      await errorCode(person('Mia').browser.trpc.keys.revoke.mutate({ id: miaKey.id, orgId: org.id })),
    ).toBe('FORBIDDEN');
    const byAdmin = await person('Kate').browser.trpc.keys.revoke.mutate({ id: miaKey.id, orgId: org.id });
    // As the organization sees it, the key is revoked; for Mia it is cut off from this organization only.
    expect(byAdmin).toMatchObject({ status: 'revoked', revokedReason: 'admin' });
    expect((await rest<Problem>(app.url, miaKey.key, 'GET', `/orgs/${org.id}/projects`)).body.code).toBe(
      'KEY_CUT_OFF',
    );
    const audit = await person('Kate').browser.trpc.audit.list.query({ orgId: org.id });
    const revocations = audit.items.filter((e) => e.action === 'key.revoked');
    expect(revocations.map((e) => [e.actorName, (e.metadata as { via: string }).via])).toEqual([
      ['Kate', 'settings'],
    ]);
    const cutOffs = audit.items.filter((e) => e.action === 'key.cut_off');
    expect(cutOffs.map((e) => [e.actorName, e.targetId])).toEqual([['Kate', miaKey.id]]);
  });

  it('renames', async () => {
    const org = await orgWith(person('Kate'), 'Rename');
    const { id } = await create(person('Kate'), org.id, { role: 'viewer', name: 'old' });
    expect((await person('Kate').browser.trpc.keys.update.mutate({ id, name: 'new' })).name).toBe('new');
  });

  it('rotates with a grace period: both work during it, the old one stops after it', async () => {
    const org = await orgWith(person('Kate'), 'Rotate');
    const old = await create(person('Kate'), org.id, {
      role: 'member',
      name: 'deploy',
      orgIds: [org.id],
      expiresInDays: 90,
    });
    const rotated = await person('Kate').browser.trpc.keys.rotate.mutate({ id: old.id, gracePeriod: '1h' });
    issued.push(rotated.key);
    expect(rotated.key).not.toBe(old.key);
    expect(rotated.apiKey).toMatchObject({
      name: 'deploy',
      role: 'member',
      scope: [org.id],
      rotatedFrom: old.id,
      status: 'active',
    });
    expect(rotated.previous.revokedReason).toBe('rotation');
    expect((await rest(app.url, old.key, 'GET', '/me')).status).toBe(200);
    expect((await rest(app.url, rotated.key, 'GET', '/me')).status).toBe(200);
    expect(
      await errorCode(person('Kate').browser.trpc.keys.rotate.mutate({ id: old.id, gracePeriod: 'now' })),
    ).toBe('CONFLICT');
    app.clock.advance(3_600_000 + 1000);
    const after = await rest<Problem>(app.url, old.key, 'GET', '/me');
    expect([after.status, after.body.code]).toEqual([401, 'KEY_REVOKED']);
    expect((await rest(app.url, rotated.key, 'GET', '/me')).status).toBe(200);
  });

  it('rotates with grace "now": the old key stops on the next request', async () => {
    const org = await orgWith(person('Kate'), 'RotateNow');
    const old = await create(person('Kate'), org.id, { role: 'viewer' });
    expect((await rest(app.url, old.key, 'GET', '/me')).status).toBe(200);
    const rotated = await person('Kate').browser.trpc.keys.rotate.mutate({ id: old.id, gracePeriod: 'now' });
    issued.push(rotated.key);
    expect((await rest<Problem>(app.url, old.key, 'GET', '/me')).body.code).toBe('KEY_REVOKED');
    expect((await rest(app.url, rotated.key, 'GET', '/me')).status).toBe(200);
    const audit = await person('Kate').browser.trpc.audit.list.query({ orgId: org.id });
    expect(audit.items.find((e) => e.action === 'key.rotated')?.metadata).toMatchObject({
      grace: 'now',
      replacement: rotated.apiKey.id,
    });
  });
});

describe('REST: /me, self-revocation and leak reports', () => {
  it('GET /api/v1/me describes the key, its creator and its effective role per organization', async () => {
    const a = await orgWith(person('Kate'), 'Alpha', [{ person: person('Adam'), role: 'admin' }]);
    const b = await orgWith(person('Mia'), 'Beta', [{ person: person('Adam'), role: 'viewer' }]);
    const { key, id } = await create(person('Adam'), a.id, { role: 'admin', name: 'adam-all' });
    const me = await rest<{
      key: { id: string; role: string; scope: null; hint: string };
      creator: { name: string };
      organizations: { id: string; name: string; effectiveRole: string; creatorRole: string }[];
    }>(app.url, key, 'GET', '/me');
    expect(me.status).toBe(200);
    expect(me.body.key).toMatchObject({
      id,
      role: 'admin',
      scope: null,
      permissions: null,
      allowedIps: null,
      expiresSoon: false,
    });
    expect(me.body.creator.name).toBe('Adam');
    // Unrestricted: what each effective role allows a key (the catalogue's rule, tested in packages/core).
    expect(me.body.organizations).toEqual([
      {
        id: a.id,
        name: 'Alpha',
        creatorRole: 'admin',
        effectiveRole: 'admin',
        permissions: permissionsOf('admin', 'key'),
      },
      {
        id: b.id,
        name: 'Beta',
        creatorRole: 'viewer',
        effectiveRole: 'viewer',
        permissions: permissionsOf('viewer', 'key'),
      },
    ]);
    expect(JSON.stringify(me.body)).not.toContain(key);
  });

  it('/me is remembered per cache entry (#17), yet each key gets its own and a demotion or the expiry warning shows on the next request', async () => {
    const org = await orgWith(person('Kate'), 'Remembered', [{ person: person('Adam'), role: 'admin' }]);
    const kates = await create(person('Kate'), org.id, { role: 'admin', name: 'kate-me' });
    const adams = await create(person('Adam'), org.id, { role: 'admin', name: 'adam-me', expiresInDays: 30 });
    type Me = { key: { id: string; expiresSoon: boolean }; organizations: { effectiveRole: string }[] };
    const viaTrpc = async (key: string) => (await keyClient(app.url, key).keys.current.query()) as Me;
    for (let round = 0; round < 3; round++) {
      for (const k of [kates, adams]) {
        const restMe = await rest<Me>(app.url, k.key, 'GET', '/me');
        expect(restMe.body.key.id).toBe(k.id);
        expect((await viaTrpc(k.key)).key.id).toBe(k.id);
      }
    }
    expect((await rest<Me>(app.url, adams.key, 'GET', '/me')).body.organizations[0]?.effectiveRole).toBe(
      'admin',
    );
    await person('Kate').browser.trpc.members.updateRole.mutate({
      orgId: org.id,
      userId: person('Adam').id,
      role: 'viewer',
    });
    const demoted = await rest<Me>(app.url, adams.key, 'GET', '/me');
    expect(demoted.body.organizations[0]?.effectiveRole).toBe('viewer');
    expect((await viaTrpc(adams.key)).organizations[0]?.effectiveRole).toBe('viewer');
    // Into the last 7 days before expiry: the same entry, the other remembered answer.
    expect(demoted.body.key.expiresSoon).toBe(false);
    app.clock.advance(24 * DAY);
    expect((await rest<Me>(app.url, adams.key, 'GET', '/me')).body.key.expiresSoon).toBe(true);
    expect((await viaTrpc(adams.key)).key.expiresSoon).toBe(true);
    expect((await rest<Me>(app.url, kates.key, 'GET', '/me')).body.key.expiresSoon).toBe(false);
  });

  it('DELETE /api/v1/keys/current revokes the calling key', async () => {
    const org = await orgWith(person('Kate'), 'SelfRevoke');
    const { key, id } = await create(person('Kate'), org.id, { role: 'viewer' });
    expect((await rest(app.url, key, 'DELETE', '/keys/current')).body).toEqual({ ok: true });
    expect((await rest<Problem>(app.url, key, 'GET', '/me')).body.code).toBe('KEY_REVOKED');
    expect(
      (await person('Kate').browser.trpc.keys.list.query()).find((k) => k.id === id)?.revokedReason,
    ).toBe('self');
  });

  it('POST /api/v1/keys/revoke-leaked is public, revokes valid keys, reveals only the count, and is audited', async () => {
    const org = await orgWith(person('Kate'), 'Leaky');
    const leaked = await create(person('Kate'), org.id, { role: 'member', name: 'pasted-in-a-gist' });
    const alsoLeaked = await create(person('Kate'), org.id, { role: 'viewer' });
    await person('Kate').browser.trpc.keys.revoke.mutate({ id: alsoLeaked.id });
    const unknown = `cdk_${'A'.repeat(36)}`;
    const res = await rest(app.url, null, 'POST', '/keys/revoke-leaked', {
      keys: [leaked.key, leaked.key, alsoLeaked.key, unknown, 'not-a-key'],
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ revoked: 1 });
    expect((await rest<Problem>(app.url, leaked.key, 'GET', '/me')).body.code).toBe('KEY_REVOKED');
    const mine = (await person('Kate').browser.trpc.keys.list.query()).find((k) => k.id === leaked.id);
    expect(mine?.revokedReason).toBe('leak-report');
    const audit = await person('Kate').browser.trpc.audit.list.query({ orgId: org.id });
    expect(audit.items.find((e) => e.action === 'key.revoked' && e.targetId === leaked.id)).toMatchObject({
      actorType: 'anonymous',
      metadata: { via: 'leak-report', name: 'pasted-in-a-gist' },
    });
    const bad = await rest<Problem>(app.url, null, 'POST', '/keys/revoke-leaked', {
      keys: Array(101).fill(unknown),
    });
    expect([bad.status, bad.body.code]).toEqual([400, 'VALIDATION_FAILED']);
  });
});

describe('secrets at rest and in logs', () => {
  it('keeps no raw key in any table or in the captured logs', async () => {
    expect(issued.length).toBeGreaterThan(15);
    const conn = app.orm.em.getConnection();
    const tables = await conn.execute<{ table_name: string }[]>(
      "select table_name from information_schema.tables where table_schema = 'public'",
    );
    let dump = '';
    for (const { table_name } of tables) {
      const rows = await conn.execute(`select * from "${table_name}"`);
      dump += JSON.stringify(rows);
    }
    const logs = app.logs.text;
    expect(logs.length).toBeGreaterThan(1000);
    for (const key of issued) {
      expect(dump).not.toContain(key);
      expect(dump).not.toContain(key.slice(4, 34));
      expect(logs).not.toContain(key);
    }
    // The hashes are there: keys are looked up by them.
    expect(dump).toMatch(/"hash":"[0-9a-f]{64}"/);
  });
});

describe('browser sessions and keys do not mix', () => {
  it('the REST API ignores session cookies', async () => {
    const b = new Browser(app.url);
    b.cookie = person('Kate').browser.cookie;
    const res = await b.fetch(`${app.url}/api/v1/me`);
    expect(res.status).toBe(401);
  });
});
