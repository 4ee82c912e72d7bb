/**
 * The organization policy "Members must use two-factor sign-in", against real PostgreSQL and over raw HTTP as an
 * attacker would send it: who may set it (owners, signed in, with a second factor of their own), what it stops (a
 * member without a second factor, by session, session token or key — over tRPC, REST and batches), what stays open
 * (who they are, their organizations, leaving), and that enrolling lets them and their keys act again at once — on
 * this node and on a second one whose cache held the key.
 *
 * Enrolment goes through the API (`auth.totp.*`, codes computed from the shown secret). Passkeys are registered on
 * another branch: until that lands, a passkey row is written through the ORM and `secondFactorsChanged` is called,
 * what registration must do after it commits (the contract in second-factors.ts).
 */
import { randomUUID } from 'node:crypto';
import { totpCodeForStep, totpStep } from '@crowdee/core';
import { Passkey, RecoveryCode, UserTotp } from '@crowdee/db';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { secondFactorsChanged } from '../src/services/second-factors.ts';
import { keyFor, orgWith, type Person, people } from './helpers/fixtures.ts';
import { errorCode } from './helpers/http-client.ts';
import { rest } from './helpers/rest.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

let app: TestApp;
let cast: Record<'Olive' | 'Adam' | 'Mia' | 'Stan', Person>;

beforeAll(async () => {
  // Listening on the invalidation channel, so a second node started on the same database hears this one.
  app = await startTestApp({ invalidation: { channel: 'postgres' } });
  cast = (await people(app, ['Olive', 'Adam', 'Mia', 'Stan'])) as typeof cast;
});
afterAll(async () => {
  await app?.close();
});
// Each test starts with nobody enrolled.
afterEach(async () => {
  for (const person of Object.values(cast)) await wipeFactors(person.id);
});

/**
 * Sets up an authenticator app through the API, as the Security page does (begin, then confirm with a code from the
 * shown secret). Confirming ends the account's other sessions and invalidates the user's cached credentials on every
 * node; `confirm: false` leaves the set-up pending (no second factor yet).
 */
async function enrolTotp(person: Person, confirm = true): Promise<void> {
  const { secret } = await person.browser.trpc.auth.totp.beginEnrolment.mutate();
  if (!confirm) return;
  await person.browser.trpc.auth.totp.confirmEnrolment.mutate({
    code: totpCodeForStep(secret, totpStep(app.clock.now())),
  });
}

/** Turns the authenticator app off through the API (the session proved it at enrolment, moments ago). */
async function disableTotp(person: Person): Promise<void> {
  await person.browser.trpc.auth.totp.disable.mutate();
}

/** Between tests: every factor gone, straight from the database, and every node told. */
async function wipeFactors(userId: string): Promise<void> {
  const em = app.orm.em.fork();
  await em.nativeDelete(UserTotp, { user: userId });
  await em.nativeDelete(RecoveryCode, { user: userId });
  await em.nativeDelete(Passkey, { user: userId });
  await secondFactorsChanged(app.deps, em, userId);
}

interface Raw {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: a raw HTTP body, asserted field by field
  body: any;
}

/** A raw tRPC call with a session cookie or a bearer credential (key or session token). */
async function trpc(
  as: Person | { bearer: string },
  kind: 'query' | 'mutation',
  path: string,
  input: unknown,
  base = app.url,
): Promise<Raw> {
  const auth: Record<string, string> = 'bearer' in as ? { authorization: `Bearer ${as.bearer}` } : {};
  const query = input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`;
  const url = kind === 'query' ? `${base}/trpc/${path}${query}` : `${base}/trpc/${path}`;
  const init: RequestInit =
    kind === 'query'
      ? { headers: auth }
      : {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify(input ?? {}),
        };
  const res = 'bearer' in as ? await fetch(url, init) : await as.browser.fetch(url, init);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const code = (r: Raw) => r.body?.error?.data?.code ?? r.body?.code ?? 'OK';

/** Olive owns Acme (Adam admin, Mia member); Mia also owns Mia Co. Olive enrolled; Adam and Mia have not. */
async function world() {
  const mine = await orgWith(cast.Mia, `Mia Co ${randomUUID().slice(0, 6)}`);
  const acme = await orgWith(cast.Olive, `Acme ${randomUUID().slice(0, 6)}`, [
    { person: cast.Adam, role: 'admin' },
    { person: cast.Mia, role: 'member' },
  ]);
  return { acme, mine };
}

describe('setting the policy', () => {
  it('takes an owner, signed in: an admin is FORBIDDEN, keys and session tokens SESSION_REQUIRED', async () => {
    const { acme } = await world();
    const adminKey = await keyFor(cast.Adam, acme.id, { role: 'admin' });
    const olivesKey = await keyFor(cast.Olive, acme.id, { role: 'admin' });
    const { token } = await cast.Olive.browser.trpc.auth.createSessionToken.mutate({ audience: 'policy' });
    const input = { orgId: acme.id, required: false };
    expect(code(await trpc(cast.Adam, 'mutation', 'orgs.setTwoFactorPolicy', input))).toBe('FORBIDDEN');
    expect(code(await trpc({ bearer: adminKey.key }, 'mutation', 'orgs.setTwoFactorPolicy', input))).toBe(
      'SESSION_REQUIRED',
    );
    expect(code(await trpc({ bearer: olivesKey.key }, 'mutation', 'orgs.setTwoFactorPolicy', input))).toBe(
      'SESSION_REQUIRED',
    );
    expect(code(await trpc({ bearer: token }, 'mutation', 'orgs.setTwoFactorPolicy', input))).toBe(
      'SESSION_REQUIRED',
    );
    // Another tenant's organization answers like a missing one.
    const stranger = await trpc(cast.Stan, 'mutation', 'orgs.setTwoFactorPolicy', input);
    const missing = await trpc(cast.Stan, 'mutation', 'orgs.setTwoFactorPolicy', {
      ...input,
      orgId: randomUUID(),
    });
    expect([code(stranger), stranger.status]).toEqual(['NOT_FOUND', 404]);
    expect([code(missing), missing.status]).toEqual(['NOT_FOUND', 404]);
  });

  it('an owner without a second factor cannot switch it on (409 TWO_FACTOR_NOT_ENROLLED); enrolled, they can', async () => {
    const founder = (await people(app, ['Founder'])).Founder as Person;
    const org = await orgWith(founder, 'Lockout Ltd');
    const refused = await trpc(founder, 'mutation', 'orgs.setTwoFactorPolicy', {
      orgId: org.id,
      required: true,
    });
    expect([refused.status, code(refused)]).toEqual([409, 'TWO_FACTOR_NOT_ENROLLED']);
    expect(refused.body.error.message).toMatch(/lock you out/);
    // An enrolment not yet confirmed is no second factor.
    await enrolTotp(founder, false);
    expect(
      await errorCode(founder.browser.trpc.orgs.setTwoFactorPolicy.mutate({ orgId: org.id, required: true })),
    ).toBe('TWO_FACTOR_NOT_ENROLLED');
    expect((await founder.browser.trpc.orgs.get.query({ orgId: org.id })).twoFactorRequired).toBe(false);

    await wipeFactors(founder.id);
    await enrolTotp(founder);
    const on = await founder.browser.trpc.orgs.setTwoFactorPolicy.mutate({ orgId: org.id, required: true });
    expect(on).toMatchObject({ twoFactorRequired: true, blockedByTwoFactorPolicy: false });
    expect((await founder.browser.trpc.orgs.get.query({ orgId: org.id })).twoFactorRequired).toBe(true);
    expect(await founder.browser.trpc.orgs.list.query()).toEqual([
      expect.objectContaining({ id: org.id, twoFactorRequired: true, blockedByTwoFactorPolicy: false }),
    ]);
    // Off again needs nothing of the sort; the same value twice changes nothing and writes no second event.
    await founder.browser.trpc.orgs.setTwoFactorPolicy.mutate({ orgId: org.id, required: false });
    await founder.browser.trpc.orgs.setTwoFactorPolicy.mutate({ orgId: org.id, required: false });
    const events = await founder.browser.trpc.audit.list.query({
      orgId: org.id,
      actions: ['org.two_factor_policy_changed'],
    });
    expect(events.items.map((e) => e.metadata)).toEqual([
      { required: { from: true, to: false } },
      { required: { from: false, to: true } },
    ]);
  });
});

describe('a member without a second factor, in an organization that requires one', () => {
  it('is refused there over tRPC (TWO_FACTOR_REQUIRED, 403), acts in their other organizations, and is told where', async () => {
    const { acme, mine } = await world();
    await enrolTotp(cast.Olive);
    await cast.Olive.browser.trpc.orgs.setTwoFactorPolicy.mutate({ orgId: acme.id, required: true });

    const refused = await trpc(cast.Mia, 'query', 'projects.list', { orgId: acme.id });
    expect([refused.status, code(refused)]).toEqual([403, 'TWO_FACTOR_REQUIRED']);
    expect(refused.body.error.message).toMatch(/Settings → Security/);
    for (const [kind, path, input] of [
      ['query', 'orgs.get', { orgId: acme.id }],
      ['query', 'members.list', { orgId: acme.id }],
      ['mutation', 'projects.create', { orgId: acme.id, name: 'sneaky' }],
    ] as const) {
      expect(code(await trpc(cast.Mia, kind, path, input)), path).toBe('TWO_FACTOR_REQUIRED');
    }
    // An admin without a second factor is stopped the same way, before their role is even weighed.
    expect(code(await trpc(cast.Adam, 'query', 'keys.listForOrg', { orgId: acme.id }))).toBe(
      'TWO_FACTOR_REQUIRED',
    );
    // The owner who enrolled acts as before; Mia acts in her own organization.
    expect(code(await trpc(cast.Olive, 'query', 'projects.list', { orgId: acme.id }))).toBe('OK');
    expect(code(await trpc(cast.Mia, 'query', 'projects.list', { orgId: mine.id }))).toBe('OK');
    // Who she is and where she belongs stay open, and say where she must enrol.
    expect(code(await trpc(cast.Mia, 'query', 'auth.me', undefined))).toBe('OK');
    const orgs = await cast.Mia.browser.trpc.orgs.list.query();
    expect(orgs.find((o) => o.id === acme.id)).toMatchObject({
      twoFactorRequired: true,
      blockedByTwoFactorPolicy: true,
    });
    expect(orgs.find((o) => o.id === mine.id)).toMatchObject({
      twoFactorRequired: false,
      blockedByTwoFactorPolicy: false,
    });

    // Enrolling opens Acme on the very next request.
    await enrolTotp(cast.Mia);
    expect(code(await trpc(cast.Mia, 'query', 'projects.list', { orgId: acme.id }))).toBe('OK');
    expect((await cast.Mia.browser.trpc.orgs.list.query()).find((o) => o.id === acme.id)).toMatchObject({
      blockedByTwoFactorPolicy: false,
    });
    await disableTotp(cast.Mia);
    expect(code(await trpc(cast.Mia, 'query', 'projects.list', { orgId: acme.id }))).toBe(
      'TWO_FACTOR_REQUIRED',
    );
  });

  it('is refused over REST, with a session token (cds_) and in every path spelling', async () => {
    const { acme, mine } = await world();
    await enrolTotp(cast.Olive);
    const { token } = await cast.Mia.browser.trpc.auth.createSessionToken.mutate({ audience: 'policy-rest' });
    // Warm the token's cache entry before the policy: the switch must invalidate it.
    expect((await rest(app.url, token, 'GET', `/orgs/${acme.id}/projects`)).status).toBe(200);
    await cast.Olive.browser.trpc.orgs.setTwoFactorPolicy.mutate({ orgId: acme.id, required: true });

    for (const path of [
      `/orgs/${acme.id}/projects`,
      `/orgs/${acme.id.toUpperCase()}/projects`,
      `/orgs/${acme.id}/projects/`,
      `/orgs/${encodeURIComponent(acme.id)}/projects?limit=1`,
    ]) {
      const res = await rest(app.url, token, 'GET', path);
      expect([res.status, res.body.code], path).toEqual([403, 'TWO_FACTOR_REQUIRED']);
      expect(res.contentType).toMatch(/problem\+json/);
    }
    const create = await rest(app.url, token, 'POST', `/orgs/${acme.id}/projects`, { name: 'via rest' });
    expect([create.status, create.body.code]).toEqual([403, 'TWO_FACTOR_REQUIRED']);
    expect(code(await trpc({ bearer: token }, 'query', 'projects.list', { orgId: acme.id }))).toBe(
      'TWO_FACTOR_REQUIRED',
    );
    expect((await rest(app.url, token, 'GET', `/orgs/${mine.id}/projects`)).status).toBe(200);

    await enrolTotp(cast.Mia);
    expect((await rest(app.url, token, 'GET', `/orgs/${acme.id}/projects`)).status).toBe(200);
    await disableTotp(cast.Mia);
  });

  it('a batch refuses the calls in that organization only, each with its own code', async () => {
    const { acme, mine } = await world();
    await enrolTotp(cast.Olive);
    await cast.Olive.browser.trpc.orgs.setTwoFactorPolicy.mutate({ orgId: acme.id, required: true });
    const inputs = { 0: undefined, 1: { orgId: acme.id }, 2: { orgId: mine.id }, 3: { orgId: acme.id } };
    const res = await cast.Mia.browser.fetch(
      `${app.url}/trpc/orgs.list,projects.list,projects.list,members.list?batch=1&input=${encodeURIComponent(JSON.stringify(inputs))}`,
    );
    const body = (await res.json()) as { error?: { data: { code: string } } }[];
    expect(res.status).toBe(207);
    expect(body.map((e) => e.error?.data.code ?? 'OK')).toEqual([
      'OK',
      'TWO_FACTOR_REQUIRED',
      'OK',
      'TWO_FACTOR_REQUIRED',
    ]);
  });

  it('may still leave the organization, and a stranger learns nothing of the policy', async () => {
    const { acme } = await world();
    await enrolTotp(cast.Olive);
    await cast.Olive.browser.trpc.orgs.setTwoFactorPolicy.mutate({ orgId: acme.id, required: true });
    const strangerKey = await keyFor(cast.Stan, (await orgWith(cast.Stan, 'Stan Co')).id, { role: 'admin' });
    expect(code(await trpc(cast.Stan, 'query', 'projects.list', { orgId: acme.id }))).toBe('NOT_FOUND');
    expect(code(await trpc({ bearer: strangerKey.key }, 'query', 'projects.list', { orgId: acme.id }))).toBe(
      'NOT_FOUND',
    );
    // Her key cannot take her out: the policy stops it in Acme before anything else is asked.
    const miasKey = await keyFor(cast.Mia, acme.id, { role: 'member' });
    expect(code(await trpc({ bearer: miasKey.key }, 'mutation', 'members.leave', { orgId: acme.id }))).toBe(
      'TWO_FACTOR_REQUIRED',
    );
    expect((await cast.Mia.browser.trpc.orgs.list.query()).some((o) => o.id === acme.id)).toBe(true);
    expect(code(await trpc(cast.Mia, 'mutation', 'members.leave', { orgId: acme.id }))).toBe('OK');
    expect((await cast.Mia.browser.trpc.orgs.list.query()).some((o) => o.id === acme.id)).toBe(false);
  });
});

describe('keys of a member without a second factor', () => {
  it('are refused in that organization only, say so in the key tables, and act again the moment the creator enrols', async () => {
    const { acme, mine } = await world();
    await enrolTotp(cast.Olive);
    // Scoped to these two (Mia belongs to the Acmes of earlier tests too, which stop an unscoped key as well).
    const key = await keyFor(cast.Mia, acme.id, { role: 'member', name: 'ci', orgIds: [acme.id, mine.id] });
    const scopedElsewhere = await keyFor(cast.Mia, mine.id, {
      role: 'member',
      name: 'home only',
      orgIds: [mine.id],
    });
    // Cached before the policy: switching it on must reach the cache, not wait for a TTL.
    expect((await rest(app.url, key.key, 'GET', `/orgs/${acme.id}/projects`)).status).toBe(200);
    await cast.Olive.browser.trpc.orgs.setTwoFactorPolicy.mutate({ orgId: acme.id, required: true });

    const refused = await rest(app.url, key.key, 'GET', `/orgs/${acme.id}/projects`);
    expect([refused.status, refused.body.code]).toEqual([403, 'TWO_FACTOR_REQUIRED']);
    expect(code(await trpc({ bearer: key.key }, 'query', 'projects.list', { orgId: acme.id }))).toBe(
      'TWO_FACTOR_REQUIRED',
    );
    expect(
      code(await trpc({ bearer: key.key }, 'mutation', 'projects.create', { orgId: acme.id, name: 'x' })),
    ).toBe('TWO_FACTOR_REQUIRED');
    expect((await rest(app.url, key.key, 'GET', `/orgs/${mine.id}/projects`)).status).toBe(200);
    // Its own description no longer lists Acme; its organization list neither.
    const me = await rest<{ organizations: { id: string }[] }>(app.url, key.key, 'GET', '/me');
    const listed: string[] = (
      await trpc({ bearer: key.key }, 'query', 'orgs.list', undefined)
    ).body.result.data.map((o: { id: string }) => o.id);
    for (const ids of [me.body.organizations.map((o) => o.id), listed]) {
      expect(ids).toContain(mine.id);
      expect(ids).not.toContain(acme.id);
    }

    // The key tables say why: Mia's own list, and Acme's owner's view of the organization's keys.
    const mineList = await cast.Mia.browser.trpc.keys.list.query();
    expect(mineList.find((k) => k.id === key.id)?.blockedByTwoFactorPolicy).toEqual([
      { orgId: acme.id, orgName: expect.stringMatching(/^Acme/) },
    ]);
    expect(mineList.find((k) => k.id === scopedElsewhere.id)?.blockedByTwoFactorPolicy).toEqual([]);
    const orgList = await cast.Olive.browser.trpc.keys.listForOrg.query({ orgId: acme.id });
    expect(orgList.find((k) => k.id === key.id)?.blockedByTwoFactorPolicy).toEqual([
      { orgId: acme.id, orgName: expect.stringMatching(/^Acme/) },
    ]);

    await enrolTotp(cast.Mia);
    expect((await rest(app.url, key.key, 'GET', `/orgs/${acme.id}/projects`)).status).toBe(200);
    expect(
      (await cast.Mia.browser.trpc.keys.list.query()).find((k) => k.id === key.id)?.blockedByTwoFactorPolicy,
    ).toEqual([]);
    // Removing the last factor stops the key again at once; switching the policy off frees it at once.
    await disableTotp(cast.Mia);
    expect((await rest(app.url, key.key, 'GET', `/orgs/${acme.id}/projects`)).body.code).toBe(
      'TWO_FACTOR_REQUIRED',
    );
    await cast.Olive.browser.trpc.orgs.setTwoFactorPolicy.mutate({ orgId: acme.id, required: false });
    expect((await rest(app.url, key.key, 'GET', `/orgs/${acme.id}/projects`)).status).toBe(200);
  });

  it('a passkey counts as a second factor', async () => {
    const { acme } = await world();
    await enrolTotp(cast.Olive);
    await cast.Olive.browser.trpc.orgs.setTwoFactorPolicy.mutate({ orgId: acme.id, required: true });
    const key = await keyFor(cast.Mia, acme.id, { role: 'viewer' });
    expect((await rest(app.url, key.key, 'GET', `/orgs/${acme.id}/projects`)).body.code).toBe(
      'TWO_FACTOR_REQUIRED',
    );
    const em = app.orm.em.fork();
    em.create(Passkey, {
      id: randomUUID(),
      user: cast.Mia.id,
      credentialId: randomUUID(),
      publicKey: Buffer.from('test-only'),
      counter: 0,
      deviceType: 'singleDevice',
      backedUp: false,
      name: 'Laptop',
      createdAt: app.clock.now(),
    });
    await em.flush();
    await secondFactorsChanged(app.deps, em, cast.Mia.id);
    expect((await rest(app.url, key.key, 'GET', `/orgs/${acme.id}/projects`)).status).toBe(200);
  });
});

describe('routes served outside the tRPC adapter', () => {
  it('the multipart upload and the conditional run GET refuse a stopped key, and answer no 304 for it', async () => {
    const { acme } = await world();
    await enrolTotp(cast.Olive);
    const olive = cast.Olive.browser.trpc;
    const project = await olive.projects.create.mutate({ orgId: acme.id, name: 'uploads' });
    const dataset = await olive.datasets.create.mutate({ orgId: acme.id, projectId: project.id, name: 'd' });
    await olive.items.add.mutate({
      orgId: acme.id,
      projectId: project.id,
      datasetId: dataset.id,
      items: [{ externalId: 'one', text: 'one' }],
    });
    const run = await olive.runs.start.mutate({
      orgId: acme.id,
      projectId: project.id,
      datasetId: dataset.id,
    });
    const key = await keyFor(cast.Mia, acme.id, { role: 'member', orgIds: [acme.id] });
    const runPath = `${app.url}/api/v1/orgs/${acme.id}/projects/${project.id}/datasets/${dataset.id}/runs/${run.id}`;
    const before = await fetch(runPath, { headers: { authorization: `Bearer ${key.key}` } });
    expect(before.status).toBe(200);
    const etag = before.headers.get('etag') ?? '';
    expect(etag).not.toBe('');
    await olive.orgs.setTwoFactorPolicy.mutate({ orgId: acme.id, required: true });

    // With the ETag it had: a 304 would confirm the run is unchanged to a key that may no longer see it.
    const conditional = await fetch(runPath, {
      headers: { authorization: `Bearer ${key.key}`, 'if-none-match': etag },
    });
    expect(conditional.status).toBe(403);
    expect(((await conditional.json()) as { code: string }).code).toBe('TWO_FACTOR_REQUIRED');

    const form = new FormData();
    form.append('file', new Blob(['hello'], { type: 'text/plain' }), 'hello.txt');
    const upload = await fetch(
      `${app.url}/api/v1/orgs/${acme.id}/projects/${project.id}/datasets/${dataset.id}/files`,
      { method: 'POST', headers: { authorization: `Bearer ${key.key}` }, body: form },
    );
    expect(upload.status).toBe(403);
    expect(((await upload.json()) as { code: string }).code).toBe('TWO_FACTOR_REQUIRED');

    // A stopped admin cannot cut other members' keys off either.
    const adminCut = await trpc(cast.Adam, 'mutation', 'keys.revoke', { id: key.id, orgId: acme.id });
    expect(code(adminCut)).toBe('TWO_FACTOR_REQUIRED');
  });
});

describe('on a second API node', () => {
  it('the policy and an enrolment made through one node reach the other node’s cached key at once', async () => {
    const b = await startTestApp({ invalidation: { channel: 'postgres' }, database: { url: app.dbUrl } });
    try {
      const connected = async (node: TestApp) =>
        ((await (await fetch(`${node.url}/healthz`)).json()) as { invalidation: { state: string } })
          .invalidation.state === 'connected';
      await until(async () => (await connected(app)) && (await connected(b)));
      const { acme } = await world();
      await enrolTotp(cast.Olive);
      const key = await keyFor(cast.Mia, acme.id, { role: 'member' });
      const onB = () => rest(b.url, key.key, 'GET', `/orgs/${acme.id}/projects`);
      expect((await onB()).status).toBe(200);
      expect(b.deps.keyCache.size).toBeGreaterThan(0);
      await cast.Olive.browser.trpc.orgs.setTwoFactorPolicy.mutate({ orgId: acme.id, required: true });
      // Node B hears it over the channel (its cache TTL is 30 s: only the message can explain a quick change).
      expect(await until(async () => (await onB()).body.code === 'TWO_FACTOR_REQUIRED')).toBeGreaterThan(0);
      await enrolTotp(cast.Mia);
      expect(await until(async () => (await onB()).status === 200)).toBeGreaterThan(0);
      await disableTotp(cast.Mia);
    } finally {
      await b.close();
    }
  });
});

/** Polls a condition (never a fixed sleep); the deadline only ends a broken run. */
async function until(check: () => Promise<boolean>, deadlineMs = 20_000): Promise<number> {
  const started = Date.now();
  let polls = 0;
  while (Date.now() - started < deadlineMs) {
    polls++;
    if (await check()) return polls;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('timed out');
}
