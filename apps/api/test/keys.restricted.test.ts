/**
 * Restricted keys over both transports, against a real PostgreSQL: a key limited to a permission subset is refused
 * outside it (FORBIDDEN naming the missing permission), never gets more than its creator's *current* role allows
 * (the creator is demoted mid-test), and `GET /api/v1/me` lists what it may do per organization. Also: the subset
 * and allowlist survive rotation, and "expires soon" shows in the key list and in /me.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyFor, orgWith, type Person, people } from './helpers/fixtures.ts';
import { errorCode, keyClient } from './helpers/http-client.ts';
import { type Problem, rest } from './helpers/rest.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

let app: TestApp;
let cast: Record<string, Person>;
const person = (name: string): Person => {
  const p = cast[name];
  if (!p) throw new Error(`no ${name}`);
  return p;
};

beforeAll(async () => {
  app = await startTestApp();
  cast = await people(app, ['Owner', 'Dev', 'Other']);
});
afterAll(async () => {
  await app?.close();
});

interface TrpcFailure {
  data?: { code?: string; requiredPermission?: string; requiredRole?: string };
}

async function trpcRefusal(promise: Promise<unknown>): Promise<TrpcFailure['data']> {
  try {
    await promise;
  } catch (error) {
    return (error as TrpcFailure).data;
  }
  throw new Error('expected a refusal');
}

type Me = {
  key: { permissions: string[] | null; expiresSoon: boolean; expiresAt: string | null };
  organizations: { id: string; effectiveRole: string; permissions: string[] }[];
};

describe('a key restricted to a permission subset', () => {
  it('reads but may not write, on REST and on tRPC, and says which permission is missing', async () => {
    const org = await orgWith(person('Owner'), 'Restricted');
    const { key } = await keyFor(person('Owner'), org.id, { role: 'admin', permissions: ['projects:read'] });

    expect((await rest(app.url, key, 'GET', `/orgs/${org.id}/projects`)).status).toBe(200);
    const write = await rest<Problem & { requiredPermission: string }>(
      app.url,
      key,
      'POST',
      `/orgs/${org.id}/projects`,
      { name: 'nope' },
    );
    expect(write.status).toBe(403);
    expect(write.contentType).toContain('application/problem+json');
    expect(write.body).toMatchObject({ code: 'FORBIDDEN', requiredPermission: 'projects:write' });
    expect(write.body).not.toHaveProperty('requiredRole');

    const client = keyClient(app.url, key);
    expect(await client.projects.list.query({ orgId: org.id })).toMatchObject({ items: [] });
    expect(await trpcRefusal(client.projects.create.mutate({ orgId: org.id, name: 'nope' }))).toMatchObject({
      code: 'FORBIDDEN',
      requiredPermission: 'projects:write',
    });
    // Its admin role would allow these; the subset does not.
    expect(await trpcRefusal(client.orgs.update.mutate({ orgId: org.id, name: 'x' }))).toMatchObject({
      code: 'FORBIDDEN',
      requiredPermission: 'org:update',
    });
    expect(await errorCode(client.audit.list.query({ orgId: org.id }))).toBe('FORBIDDEN');

    const me = await rest<Me>(app.url, key, 'GET', '/me');
    expect(me.body.key.permissions).toEqual(['projects:read']);
    expect(me.body.organizations).toMatchObject([
      { id: org.id, effectiveRole: 'admin', permissions: ['projects:read'] },
    ]);
  });

  it('never exceeds its creator’s current role: demoting the creator shrinks it at once', async () => {
    const org = await orgWith(person('Owner'), 'Demotion', [{ person: person('Dev'), role: 'admin' }]);
    const { key } = await keyFor(person('Dev'), org.id, {
      role: 'admin',
      permissions: ['projects:read', 'projects:write', 'projects:delete'],
    });
    const made = await rest<{ id: string }>(app.url, key, 'POST', `/orgs/${org.id}/projects`, { name: 'p1' });
    expect(made.status).toBe(201);

    await person('Owner').browser.trpc.members.updateRole.mutate({
      orgId: org.id,
      userId: person('Dev').id,
      role: 'viewer',
    });
    const write = await rest<Problem & { requiredPermission: string; requiredRole: string }>(
      app.url,
      key,
      'POST',
      `/orgs/${org.id}/projects`,
      { name: 'p2' },
    );
    expect(write.status).toBe(403);
    expect(write.body).toMatchObject({ requiredPermission: 'projects:write', requiredRole: 'member' });
    expect(
      await errorCode(
        keyClient(app.url, key).projects.delete.mutate({ orgId: org.id, projectId: made.body.id }),
      ),
    ).toBe('FORBIDDEN');
    expect((await rest(app.url, key, 'GET', `/orgs/${org.id}/projects`)).status).toBe(200);
    const me = await rest<Me>(app.url, key, 'GET', '/me');
    expect(me.body.organizations).toMatchObject([
      { id: org.id, effectiveRole: 'viewer', permissions: ['projects:read'] },
    ]);

    // Promoted back: the subset (not the role) is the ceiling again.
    await person('Owner').browser.trpc.members.updateRole.mutate({
      orgId: org.id,
      userId: person('Dev').id,
      role: 'owner',
    });
    expect((await rest(app.url, key, 'POST', `/orgs/${org.id}/projects`, { name: 'p3' })).status).toBe(201);
    expect(await errorCode(keyClient(app.url, key).orgs.update.mutate({ orgId: org.id, name: 'x' }))).toBe(
      'FORBIDDEN',
    );
  });

  it('is refused at creation when the subset is empty, unknown, session-only or above the key’s role', async () => {
    const org = await orgWith(person('Owner'), 'Creation');
    await person('Owner').browser.trpc.orgs.setActive.mutate({ orgId: org.id });
    const create = (role: 'viewer' | 'member' | 'admin', permissions: unknown) =>
      person('Owner').browser.fetch(`${app.url}/trpc/keys.create`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'bad', role, permissions }),
      });
    for (const [role, permissions] of [
      ['admin', []],
      ['admin', ['projects:fly']],
      ['admin', ['keys:manage-org']],
      ['admin', ['members:invite']],
      ['member', ['projects:delete']],
      ['viewer', ['projects:write']],
      ['admin', 'projects:read'],
      ['admin', [null]],
    ] as const) {
      const res = await create(role, permissions);
      const body = (await res.json()) as { error: { data: { code: string } } };
      expect([res.status, body.error.data.code], JSON.stringify(permissions)).toEqual([
        400,
        'VALIDATION_FAILED',
      ]);
    }
    const names = (await person('Owner').browser.trpc.keys.list.query()).map((k) => k.name);
    expect(names).not.toContain('bad');
  });

  it('keeps its subset and allowlist through rotation, and the list shows both', async () => {
    const org = await orgWith(person('Other'), 'Rotation');
    await keyFor(person('Other'), org.id, {
      role: 'member',
      permissions: ['projects:write', 'projects:read', 'projects:read'],
      allowedIps: ['127.0.0.1', '10.9.8.7/8'],
    });
    const [listed] = await person('Other').browser.trpc.keys.list.query();
    expect(listed).toMatchObject({
      permissions: ['projects:read', 'projects:write'],
      allowedIps: ['127.0.0.1/32', '10.0.0.0/8'],
    });
    const rotated = await person('Other').browser.trpc.keys.rotate.mutate({
      id: listed?.id ?? '',
      gracePeriod: 'now',
    });
    expect(rotated.apiKey).toMatchObject({
      permissions: ['projects:read', 'projects:write'],
      allowedIps: ['127.0.0.1/32', '10.0.0.0/8'],
    });
    expect(
      await errorCode(keyClient(app.url, rotated.key).orgs.update.mutate({ orgId: org.id, name: 'x' })),
    ).toBe('FORBIDDEN');
    expect((await rest(app.url, rotated.key, 'GET', `/orgs/${org.id}/projects`)).status).toBe(200);
  });
});

describe('keys expiring within 7 days', () => {
  it('are flagged in the list and in /me, and only then', async () => {
    const org = await orgWith(person('Owner'), 'Expiry');
    const hour = 3_600_000;
    const inDays = (days: number, extra: number) =>
      new Date(app.clock.now().getTime() + days * 86_400_000 + extra).toISOString();
    const soon = await keyFor(person('Owner'), org.id, {
      role: 'viewer',
      name: 'soon',
      expiresAt: inDays(7, -hour),
    });
    const later = await keyFor(person('Owner'), org.id, {
      role: 'viewer',
      name: 'later',
      expiresAt: inDays(7, hour),
    });
    const never = await keyFor(person('Owner'), org.id, { role: 'viewer', name: 'never' });
    const flags = async () =>
      Object.fromEntries(
        (await person('Owner').browser.trpc.keys.list.query())
          .filter((k) => [soon.id, later.id, never.id].includes(k.id))
          .map((k) => [k.name, k.expiresSoon]),
      );
    expect(await flags()).toEqual({ soon: true, later: false, never: false });
    const me = await rest<Me>(app.url, soon.key, 'GET', '/me');
    expect(me.body.key).toMatchObject({ expiresSoon: true });
    expect(me.body.key.expiresAt).not.toBeNull();
    expect((await rest<Me>(app.url, later.key, 'GET', '/me')).body.key.expiresSoon).toBe(false);
    expect((await rest<Me>(app.url, never.key, 'GET', '/me')).body.key.expiresSoon).toBe(false);

    // Two hours on, the second crosses into its last 7 days: the cached /me answer follows the clock.
    app.clock.advance(2 * hour);
    expect(await flags()).toEqual({ soon: true, later: true, never: false });
    expect((await rest<Me>(app.url, later.key, 'GET', '/me')).body.key.expiresSoon).toBe(true);
  });
});
