import { inspect } from 'node:util';
import { MAX_BATCH_CALLS } from '@crowdee/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrowdeeApiError, CrowdeeConfigError, createClient } from '../../src/index.ts';
import { type Api, seed, startApi } from './helpers.ts';

let api: Api;
let fixture: Awaited<ReturnType<typeof seed>>;

beforeAll(async () => {
  api = await startApi({ quota: 1000, windowSeconds: 60 });
  fixture = await seed(api, 'member');
});
afterAll(async () => {
  await api?.close();
});

describe('createClient', () => {
  it('reads the key and URL from CROWDEE_API_KEY and CROWDEE_API_URL', async () => {
    process.env.CROWDEE_API_KEY = fixture.key;
    process.env.CROWDEE_API_URL = `${api.server.url}/`;
    const client = createClient();
    try {
      const me = await client.rest.me();
      expect(me.key.role).toBe('member');
      expect(me.organizations.map((o) => o.effectiveRole)).toEqual(['member']);
    } finally {
      await client.close();
      delete process.env.CROWDEE_API_KEY;
      delete process.env.CROWDEE_API_URL;
    }
  });

  it('refuses a malformed key before any request, and explains a missing one', async () => {
    expect(() => createClient({ apiKey: 'sk_live_nope', baseUrl: api.server.url })).toThrow(
      CrowdeeConfigError,
    );
    const keyless = createClient({ baseUrl: api.server.url });
    await expect(keyless.rest.me()).rejects.toThrow(/CROWDEE_API_KEY/);
    expect((await keyless.rest.status()).status).toBe('ok');
    await keyless.close();
  });

  it('exposes the typed tRPC client with the key as a Bearer header', async () => {
    const client = createClient({ apiKey: fixture.key, baseUrl: api.server.url });
    try {
      const created = await client.trpc.projects.create.mutate({ orgId: fixture.orgId, name: 'via trpc' });
      const page = await client.trpc.projects.list.query({ orgId: fixture.orgId });
      expect(page.items.map((p) => p.id)).toContain(created.id);
      // A key can never manage keys, whatever the transport.
      await expect(client.trpc.keys.list.query()).rejects.toMatchObject({
        data: { code: 'SESSION_REQUIRED' },
      });
    } finally {
      await client.close();
    }
  });

  it('splits more concurrent calls than the API accepts in one batch into several batches', async () => {
    const client = createClient({ apiKey: fixture.key, baseUrl: api.server.url });
    try {
      const calls = Array.from({ length: MAX_BATCH_CALLS * 2 + 1 }, () =>
        client.trpc.projects.list.query({ orgId: fixture.orgId }),
      );
      const pages = await Promise.all(calls);
      expect(pages).toHaveLength(MAX_BATCH_CALLS * 2 + 1);
    } finally {
      await client.close();
    }
  });

  it('raises typed errors carrying the server’s code', async () => {
    const client = createClient({ apiKey: fixture.key, baseUrl: api.server.url });
    try {
      const created = await client.rest.projects.create(fixture.orgId, { name: 'to delete' });
      const forbidden = await client.rest.projects.delete(fixture.orgId, created.id).catch((e: unknown) => e);
      expect(forbidden).toBeInstanceOf(CrowdeeApiError);
      expect(forbidden).toMatchObject({ status: 403, code: 'FORBIDDEN', requiredRole: 'admin' });
      await expect(client.rest.projects.list(fixture.otherOrgId)).rejects.toMatchObject({
        status: 403,
        code: 'ORG_OUT_OF_SCOPE',
      });
      await expect(
        client.rest.projects.get(fixture.orgId, '00000000-0000-4000-8000-000000000000'),
      ).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
      const invalid = (await client.rest.projects
        .create(fixture.orgId, { name: '' })
        .catch((e: unknown) => e)) as CrowdeeApiError;
      expect(invalid.code).toBe('VALIDATION_FAILED');
      expect(invalid.fieldErrors.map((f) => f.path)).toEqual(['name']);
    } finally {
      await client.close();
    }
  });

  it('never shows the key in errors, inspect output or JSON', async () => {
    const client = createClient({ apiKey: fixture.key, baseUrl: api.server.url });
    try {
      const error = await client.rest.projects.list(fixture.otherOrgId).catch((e: unknown) => e);
      const trpcError = await client.trpc.keys.list.query().catch((e: unknown) => e);
      for (const text of [
        inspect(client, { depth: 10, showHidden: true }),
        JSON.stringify(client),
        String(error),
        inspect(error, { depth: 10, showHidden: true }),
        inspect(trpcError, { depth: 10 }),
        JSON.stringify(error),
      ]) {
        expect(text).not.toContain(fixture.key);
        expect(text).not.toContain(fixture.key.slice(4, 34));
      }
      expect(inspect(client)).toContain(client.keyHint);
    } finally {
      await client.close();
    }
  });
});
