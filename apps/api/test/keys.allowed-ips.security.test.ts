/**
 * IP allowlists, attacked over raw HTTP: IPv4 and IPv6 clients (a server on ::1 and a dual-stack one on ::),
 * X-Forwarded-For believed only from a trusted proxy, spoofed from anyone else, a wrong key that must still answer
 * 401 from a refused address, and the allowlist input itself (IPv6 spellings, mapped addresses, zone ids, /0, 51
 * entries, garbage). Each finding stays here as a regression test.
 */
import { createServer } from 'node:net';
import { generateKey } from '@crowdee/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyFor, orgWith, type Person, people } from './helpers/fixtures.ts';
import { errorCode, keyClient } from './helpers/http-client.ts';
import { raw } from './helpers/raw-http.ts';
import { startTestApp, type TestApp } from './helpers/test-app.ts';

/** Whether this machine has an IPv6 loopback (some containers have none): the IPv6 tests need one. */
async function canListenOn(host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(0, host, () => server.close(() => resolve(true)));
  });
}
const IPV6 = await canListenOn('::1');
if (!IPV6) console.warn('Skipping the IPv6 client tests: this machine has no IPv6 loopback (::1).');

const open: TestApp[] = [];
afterAll(async () => {
  await Promise.all(open.splice(0).map((a) => a.close()));
});

async function app(options: Parameters<typeof startTestApp>[0] = {}): Promise<TestApp> {
  const started = await startTestApp(options);
  open.push(started);
  return started;
}

/** GET /api/v1/me with a key from wherever the socket is, claiming `forwardedFor` if given. */
async function me(
  target: TestApp,
  key: string,
  forwardedFor?: string,
): Promise<{ status: number; code: string }> {
  const res = await raw(target.url, 'GET', '/api/v1/me', {
    headers: {
      authorization: `Bearer ${key}`,
      ...(forwardedFor !== undefined ? { 'x-forwarded-for': forwardedFor } : {}),
    },
  });
  const body = JSON.parse(res.text) as { code?: string };
  return { status: res.status, code: body.code ?? 'OK' };
}

async function ownerWithKey(
  target: TestApp,
  allowedIps: string[],
): Promise<{ owner: Person; orgId: string; key: string; id: string }> {
  const { owner } = await people(target, ['owner']);
  if (!owner) throw new Error('no owner');
  const org = await orgWith(owner, 'Allowlisted');
  const created = await keyFor(owner, org.id, { role: 'member', allowedIps });
  return { owner, orgId: org.id, ...created };
}

describe('without trusted proxies (the socket address is the client)', () => {
  let direct: TestApp;
  beforeAll(async () => {
    direct = await app();
  });

  it('admits an allowlisted IPv4 client and refuses others with 403 IP_NOT_ALLOWED', async () => {
    const allowed = await ownerWithKey(direct, ['127.0.0.0/8']);
    expect(await me(direct, allowed.key)).toEqual({ status: 200, code: 'OK' });
    const refused = await ownerWithKey(direct, ['203.0.113.0/24', '2001:db8::/32']);
    const res = await raw(direct.url, 'GET', '/api/v1/me', {
      headers: { authorization: `Bearer ${refused.key}` },
    });
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(JSON.parse(res.text)).toMatchObject({ code: 'IP_NOT_ALLOWED', status: 403 });
    expect(res.text).not.toContain(refused.key);
    // tRPC refuses the same way.
    expect(await errorCode(keyClient(direct.url, refused.key).keys.current.query())).toBe('IP_NOT_ALLOWED');
  });

  it('a wrong key from a refused address still answers 401: the 403 only ever follows a good key', async () => {
    const refused = await ownerWithKey(direct, ['203.0.113.0/24']);
    expect(await me(direct, generateKey().key)).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
    expect(await me(direct, `${refused.key.slice(0, -1)}x`)).toMatchObject({ status: 401 });
    expect(await me(direct, refused.key)).toEqual({ status: 403, code: 'IP_NOT_ALLOWED' });
  });

  it('ignores a spoofed X-Forwarded-For from an untrusted peer', async () => {
    const refused = await ownerWithKey(direct, ['203.0.113.7']);
    for (const spoof of ['203.0.113.7', '203.0.113.7, 127.0.0.1', '127.0.0.1, 203.0.113.7']) {
      expect(await me(direct, refused.key, spoof), spoof).toEqual({ status: 403, code: 'IP_NOT_ALLOWED' });
    }
    const loopback = await ownerWithKey(direct, ['127.0.0.1']);
    expect(await me(direct, loopback.key, '198.51.100.1')).toEqual({ status: 200, code: 'OK' });
  });

  it('does not record a refused request as the key’s last use', async () => {
    const refused = await ownerWithKey(direct, ['203.0.113.0/24']);
    expect((await me(direct, refused.key)).status).toBe(403);
    const [listed] = await refused.owner.browser.trpc.keys.list.query();
    expect(listed).toMatchObject({ lastUsedAt: null, lastUsedIp: null });
  });

  it('an owner’s change takes effect on the next request, and is audited', async () => {
    const target = await ownerWithKey(direct, ['203.0.113.0/24']);
    expect((await me(direct, target.key)).status).toBe(403);
    const updated = await target.owner.browser.trpc.keys.updateAllowedIps.mutate({
      id: target.id,
      allowedIps: ['203.0.113.0/24', '127.0.0.1'],
    });
    expect(updated.allowedIps).toEqual(['203.0.113.0/24', '127.0.0.1/32']);
    expect((await me(direct, target.key)).status).toBe(200);
    // An empty list lifts the restriction.
    const lifted = await target.owner.browser.trpc.keys.updateAllowedIps.mutate({
      id: target.id,
      allowedIps: [],
    });
    expect(lifted.allowedIps).toBeNull();
    expect((await me(direct, target.key)).status).toBe(200);
    const audit = await target.owner.browser.trpc.audit.list.query({ orgId: target.orgId });
    const changes = audit.items.filter((e) => e.action === 'key.allowed_ips_changed');
    expect(changes).toHaveLength(2);
    expect(changes.map((e) => e.metadata)).toContainEqual(
      expect.objectContaining({ from: ['203.0.113.0/24'], to: ['203.0.113.0/24', '127.0.0.1/32'] }),
    );
  });

  it('only the key’s owner, by session, may change the list; another user’s key id answers 404', async () => {
    const target = await ownerWithKey(direct, []);
    const { stranger } = await people(direct, ['stranger']);
    if (!stranger) throw new Error('no stranger');
    expect(
      await errorCode(
        stranger.browser.trpc.keys.updateAllowedIps.mutate({ id: target.id, allowedIps: ['10.0.0.0/8'] }),
      ),
    ).toBe('NOT_FOUND');
    expect(
      await errorCode(
        keyClient(direct.url, target.key).keys.updateAllowedIps.mutate({ id: target.id, allowedIps: [] }),
      ),
    ).toBe('SESSION_REQUIRED');
    expect((await me(direct, target.key)).status).toBe(200);
  });

  it('normalises IPv6 spellings and mapped addresses, and refuses zone ids, /0, 51 entries and garbage', async () => {
    const target = await ownerWithKey(direct, []);
    const send = async (allowedIps: unknown) => {
      const res = await target.owner.browser.fetch(`${direct.url}/trpc/keys.updateAllowedIps`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: target.id, allowedIps }),
      });
      const body = (await res.json()) as {
        result?: { data: { allowedIps: string[] | null } };
        error?: { data: { code: string; fieldErrors?: { path: string }[] } };
      };
      return { status: res.status, body };
    };
    const ok = await send([
      '2001:DB8:0000:0000::0001',
      '2001:db8::1',
      '::ffff:203.0.113.7',
      '::FFFF:cb00:7107',
      '10.1.2.3/8',
      ' 192.0.2.0/24 ',
      '::ffff:10.0.0.0/104',
    ]);
    expect(ok.status).toBe(200);
    expect(ok.body.result?.data.allowedIps).toEqual([
      '2001:db8::1/128',
      '203.0.113.7/32',
      '10.0.0.0/8',
      '192.0.2.0/24',
    ]);
    const refusals: [string, unknown, string | null][] = [
      ['zone id', ['fe80::1%eth0'], 'allowedIps.0'],
      ['percent-encoded zone id', ['fe80::1%25eth0'], 'allowedIps.0'],
      ['IPv4 /0', ['10.0.0.0/8', '0.0.0.0/0'], 'allowedIps.1'],
      ['IPv6 /0', ['::/0'], 'allowedIps.0'],
      ['mapped /96 (all of IPv4)', ['::ffff:0.0.0.0/96'], 'allowedIps.0'],
      ['51 entries', Array.from({ length: 51 }, (_, i) => `10.0.${i}.0/24`), 'allowedIps.50'],
      ['far too many entries', Array.from({ length: 500 }, () => '10.0.0.0/8'), null],
      ['octal', ['010.0.0.1'], 'allowedIps.0'],
      ['integer address', ['2130706433'], 'allowedIps.0'],
      ['hostname', ['localhost'], 'allowedIps.0'],
      ['wildcard', ['*'], 'allowedIps.0'],
      ['bracketed', ['[::1]'], 'allowedIps.0'],
      ['prefix too long', ['1.2.3.4/33'], 'allowedIps.0'],
      ['empty string', [''], 'allowedIps.0'],
      ['not a list', '10.0.0.0/8', null],
      ['not strings', [167772160], null],
      ['null entry', [null], null],
      ['NUL', ['10.0.0.0/8\u0000'], null],
      ['overlong', ['1'.repeat(200)], null],
    ];
    for (const [what, allowedIps, path] of refusals) {
      const res = await send(allowedIps);
      expect([res.status, res.body.error?.data.code], what).toEqual([400, 'VALIDATION_FAILED']);
      if (path !== null)
        expect(
          res.body.error?.data.fieldErrors?.map((e) => e.path),
          what,
        ).toContain(path);
    }
    // Exactly 50 is fine; nothing refused changed the stored list.
    const fifty = await send(Array.from({ length: 50 }, (_, i) => `10.0.${i}.0/24`));
    expect(fifty.status).toBe(200);
    expect(fifty.body.result?.data.allowedIps).toHaveLength(50);
  });

  it('checks the allowlist at creation with the same parser', async () => {
    const { maker } = await people(direct, ['maker']);
    if (!maker) throw new Error('no maker');
    const org = await orgWith(maker, 'Made');
    await maker.browser.trpc.orgs.setActive.mutate({ orgId: org.id });
    expect(
      await errorCode(
        maker.browser.trpc.keys.create.mutate({ name: 'k', role: 'viewer', allowedIps: ['0.0.0.0/0'] }),
      ),
    ).toBe('VALIDATION_FAILED');
    const made = await maker.browser.trpc.keys.create.mutate({ name: 'k', role: 'viewer', allowedIps: [] });
    expect(made.apiKey.allowedIps).toBeNull();
  });
});

describe.skipIf(!IPV6)('IPv6 clients (needs an IPv6 loopback)', () => {
  it('a server on ::1 sees an IPv6 client; the allowlist decides by IPv6 range', async () => {
    const v6 = await app({ host: '::1' });
    const allowed = await ownerWithKey(v6, ['::1']);
    expect(await me(v6, allowed.key)).toEqual({ status: 200, code: 'OK' });
    const v4Only = await ownerWithKey(v6, ['127.0.0.1']);
    expect(await me(v6, v4Only.key)).toEqual({ status: 403, code: 'IP_NOT_ALLOWED' });
  });

  it('a dual-stack server sees an IPv4 client as ::ffff:127.0.0.1, which an IPv4 entry matches', async () => {
    const dual = await app({ host: '::' });
    const url = dual.url.replace('[::]', '127.0.0.1');
    const target = { ...dual, url };
    const v4 = await ownerWithKey(target, ['127.0.0.1/32']);
    expect(await me(target, v4.key)).toEqual({ status: 200, code: 'OK' });
    const mappedEntry = await ownerWithKey(target, ['::ffff:127.0.0.1']);
    expect(await me(target, mappedEntry.key)).toEqual({ status: 200, code: 'OK' });
    const v6Only = await ownerWithKey(target, ['::1']);
    expect(await me(target, v6Only.key)).toEqual({ status: 403, code: 'IP_NOT_ALLOWED' });
  });
});

describe('behind a trusted proxy (TRUSTED_PROXIES=loopback)', () => {
  let proxied: TestApp;
  beforeAll(async () => {
    proxied = await app({ config: { trustedProxies: ['loopback'] } });
  });

  it('honours X-Forwarded-For from the proxy: IPv4, IPv6 and mapped clients', async () => {
    const target = await ownerWithKey(proxied, ['203.0.113.0/24', '2001:db8::/32']);
    expect(await me(proxied, target.key, '203.0.113.7')).toEqual({ status: 200, code: 'OK' });
    expect(await me(proxied, target.key, '2001:db8:1::5')).toEqual({ status: 200, code: 'OK' });
    expect(await me(proxied, target.key, '::ffff:203.0.113.9')).toEqual({ status: 200, code: 'OK' });
    expect(await me(proxied, target.key, '198.51.100.1')).toEqual({ status: 403, code: 'IP_NOT_ALLOWED' });
    expect(await me(proxied, target.key, '2001:db9::1')).toEqual({ status: 403, code: 'IP_NOT_ALLOWED' });
    // Without the header the proxy itself (loopback) is the client, and it is not on the list.
    expect(await me(proxied, target.key)).toEqual({ status: 403, code: 'IP_NOT_ALLOWED' });
  });

  it('takes the address the trusted proxy appended, never one the client prepended', async () => {
    const target = await ownerWithKey(proxied, ['203.0.113.7']);
    // The client claims 203.0.113.7; the proxy appended the real peer 198.51.100.1.
    expect(await me(proxied, target.key, '203.0.113.7, 198.51.100.1')).toEqual({
      status: 403,
      code: 'IP_NOT_ALLOWED',
    });
    expect(await me(proxied, target.key, '198.51.100.1, 203.0.113.7')).toEqual({ status: 200, code: 'OK' });
  });

  it('fails closed on a forwarded address that is not an address', async () => {
    const target = await ownerWithKey(proxied, ['203.0.113.0/24']);
    for (const junk of ['garbage', '203.0.113.7:443', '[2001:db8::1]', 'fe80::1%eth0', '']) {
      expect((await me(proxied, target.key, junk)).status, junk).toBe(403);
    }
  });
});
