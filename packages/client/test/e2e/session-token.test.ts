/**
 * An internal TypeScript service forwarding a user's identity: `createClient({ sessionToken })` and a `getToken`
 * callback, against the real API (real database), with a clock the test moves so tokens expire without waiting.
 */
import { inspect } from 'node:util';
import { type E2EServer, startE2EServer, tokenOf } from '@crowdee/api/testing';
import { createTestDatabase, type TestDatabase } from '@crowdee/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrowdeeApiError, CrowdeeConfigError, createClient } from '../../src/index.ts';

let db: TestDatabase;
let server: E2EServer;
let offsetMs = 0;
let cookie = '';
let orgId = '';

async function call<T>(path: string, input: unknown): Promise<T> {
  const response = await fetch(`${server.url}/trpc/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie, 'sec-fetch-site': 'same-origin' },
    body: JSON.stringify(input),
  });
  const setCookie = response.headers.getSetCookie()[0];
  if (setCookie) cookie = setCookie.split(';')[0] ?? '';
  const body = (await response.json()) as { result?: { data: T }; error?: unknown };
  if (!body.result) throw new Error(`${path}: ${JSON.stringify(body.error)}`);
  return body.result.data;
}

/** What the browser side of the service would do: ask the API for a session token with the user's cookie. */
async function newToken(ttlSeconds = 60): Promise<string> {
  const created = await call<{ token: string }>('auth.createSessionToken', {
    audience: 'billing',
    ttlSeconds,
  });
  return created.token;
}

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startE2EServer({
    databaseUrl: db.url,
    fastPasswordHashing: true,
    clock: () => new Date(Date.now() + offsetMs),
  });
  const email = `svc-${Date.now()}@example.com`;
  await call('auth.signUp', { email, password: 'service password', name: 'Svc' });
  // Creating an organization needs a verified address: follow the link mailed to the test's SMTP server.
  await call('auth.verifyEmail', { token: tokenOf((await server.mailbox.take(email, 'verify-email')).link) });
  orgId = (await call<{ id: string }>('orgs.create', { name: 'Service Org' })).id;
});
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

describe('createClient with a session token', () => {
  it('acts as the user over typed tRPC and REST, and never shows the token', async () => {
    const token = await newToken();
    const client = createClient({ baseUrl: server.url, sessionToken: token, throttle: false });
    const created = await client.trpc.projects.create.mutate({ orgId, name: 'made by the service' });
    expect(created.name).toBe('made by the service');
    const orgs = await client.trpc.orgs.list.query();
    expect(orgs.map((o) => o.role)).toEqual(['owner']);
    expect(inspect(client)).not.toContain(token);
    expect(JSON.stringify(client)).not.toContain(token);
    await client.close();
  });

  it('asks getToken for a token first, and again (retrying the call once) when the token expires', async () => {
    const issued: string[] = [];
    const client = createClient({
      baseUrl: server.url,
      throttle: false,
      getToken: async () => {
        const token = await newToken(60);
        issued.push(token);
        return token;
      },
    });
    expect((await client.trpc.projects.list.query({ orgId })).items.length).toBeGreaterThanOrEqual(1);
    expect(issued).toHaveLength(1);
    offsetMs += 61_000;
    // The first token has expired: the client gets a new one and the call still succeeds, once.
    const page = await client.trpc.projects.list.query({ orgId });
    expect(page.items.length).toBeGreaterThanOrEqual(1);
    expect(issued).toHaveLength(2);
    expect(issued[0]).not.toBe(issued[1]);
    await client.close();
  });

  it('surfaces an expired token as a typed error when there is no getToken', async () => {
    const token = await newToken(60);
    const client = createClient({ baseUrl: server.url, sessionToken: token, throttle: false });
    offsetMs += 61_000;
    const error = await client.rest.me().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrowdeeApiError);
    const listed = await client.trpc.projects.list.query({ orgId }).catch((e: unknown) => e);
    expect(JSON.stringify((listed as { data?: unknown }).data)).toContain('SESSION_TOKEN_EXPIRED');
    await client.close();
  });

  it('refuses a malformed token, or a key and a token together, before any request', () => {
    expect(() => createClient({ baseUrl: server.url, sessionToken: 'cds_nope' })).toThrow(CrowdeeConfigError);
    expect(() =>
      createClient({
        baseUrl: server.url,
        sessionToken: `cds_${'a'.repeat(36)}`,
        apiKey: `cdk_${'a'.repeat(36)}`,
      }),
    ).toThrow(CrowdeeConfigError);
  });
});
