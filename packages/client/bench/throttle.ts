/**
 * `pnpm bench` (client part): the throttle against a naive client, side by side, on the real API with a tight
 * limit, and the CLI's bulk import. Prints each one's achieved rate as a fraction of the limit, and how many of
 * its requests got a 429. Rates live here, not in `pnpm test`: they depend on how busy the machine is.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type E2EServer, startE2EServer, testConfig, tokenOf } from '@crowdee/api/testing';
import { openDatabase, startEmbeddedPostgres } from '@crowdee/db';
import { createClient, runBulk } from '../src/index.ts';

const QUOTA = Number(process.env.BENCH_QUOTA ?? 200);
const WINDOW = Number(process.env.BENCH_WINDOW_SECONDS ?? 2);
const CALLS = Number(process.env.BENCH_CALLS ?? 1000);
const LIMIT = QUOTA / WINDOW;

async function seedKey(server: E2EServer): Promise<{ key: string; orgId: string }> {
  const url = server.url;
  const email = `bench-${Date.now()}-${Math.random()}@example.com`;
  const signUp = await fetch(`${url}/trpc/auth.signUp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: 'bench password 123', name: 'Bench' }),
  });
  const cookie = (signUp.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
  const call = async <T>(path: string, input: unknown): Promise<T> => {
    const r = await fetch(`${url}/trpc/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie, 'sec-fetch-site': 'same-origin' },
      body: JSON.stringify(input),
    });
    return ((await r.json()) as { result: { data: T } }).result.data;
  };
  await call('auth.verifyEmail', { token: tokenOf((await server.mailbox.take(email, 'verify-email')).link) });
  const org = await call<{ id: string }>('orgs.create', { name: 'Bench' });
  await call('orgs.setActive', { orgId: org.id });
  const { key } = await call<{ key: string }>('keys.create', { name: 'bench', role: 'member' });
  return { key, orgId: org.id };
}

/** The built `crowdee projects import` in its own process, as a script runs it (the rate the test used to assert). */
function cliImport(url: string, seeded: { key: string; orgId: string }) {
  execFileSync(process.execPath, ['build.mjs'], { cwd: new URL('..', import.meta.url) });
  const file = join(dir, 'projects.jsonl');
  writeFileSync(
    file,
    Array.from({ length: CALLS }, (_, i) => JSON.stringify({ name: `bench-${i}` })).join('\n'),
  );
  const out = execFileSync(
    process.execPath,
    [
      new URL('../dist/cli.js', import.meta.url).pathname,
      'projects',
      'import',
      '--org',
      seeded.orgId,
      file,
      '--json',
    ],
    { env: { PATH: process.env.PATH, CROWDEE_API_KEY: seeded.key, CROWDEE_API_URL: url }, encoding: 'utf8' },
  );
  const r = JSON.parse(out) as { created: number; requests: number; rateLimited: number; seconds: number };
  return { done: r.created, requests: r.requests, rateLimited: r.rateLimited, seconds: r.seconds };
}

async function throttled(url: string, { key }: { key: string }) {
  const client = createClient({ apiKey: key, baseUrl: url, throttle: { maxConcurrent: 8 } });
  const started = performance.now();
  const summary = await runBulk(
    Array.from({ length: CALLS }, (_, i) => i),
    () => client.rest.me(),
    { concurrency: 16 },
  );
  const seconds = (performance.now() - started) / 1000;
  const stats = client.throttle?.stats();
  await client.close();
  return {
    done: summary.succeeded,
    requests: stats?.sent ?? 0,
    rateLimited: stats?.rateLimited ?? 0,
    seconds,
  };
}

async function naive(url: string, { key }: { key: string }) {
  const started = performance.now();
  let requests = 0;
  let rateLimited = 0;
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < CALLS) {
      next++;
      for (;;) {
        requests++;
        const res = await fetch(`${url}/api/v1/me`, { headers: { authorization: `Bearer ${key}` } });
        await res.arrayBuffer();
        if (res.status !== 429) break;
        rateLimited++;
      }
      done++;
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return { done, requests, rateLimited, seconds: (performance.now() - started) / 1000 };
}

const dir = mkdtempSync(join(tmpdir(), 'crowdee-client-bench-'));
const pg = process.env.DATABASE_URL
  ? undefined
  : await startEmbeddedPostgres({ dataDir: dir, ephemeral: true });
const databaseUrl = process.env.DATABASE_URL ?? pg?.url ?? '';
await (await openDatabase({ url: databaseUrl })).close();
const base = testConfig();
const server = await startE2EServer({
  databaseUrl,
  fastPasswordHashing: true,
  config: {
    rateLimits: {
      enabled: true,
      namespace: `client-bench-${Date.now()}`,
      policies: {
        ...base.rateLimits.policies,
        authenticated: { name: 'authenticated', quota: QUOTA, windowSeconds: WINDOW },
      },
    },
  },
});
try {
  console.log(
    `Crowdee client bench — ${CALLS} calls each (GET /api/v1/me, or project creations for the CLI), limit ${QUOTA} per ${WINDOW} s (${LIMIT}/s)\n`,
  );
  const rows = [
    {
      name: 'throttled client (@crowdee/client)',
      ...(await throttled(server.url, await seedKey(server))),
    },
    {
      name: 'naive client (8 workers, retry 429 at once)',
      ...(await naive(server.url, await seedKey(server))),
    },
    {
      name: `crowdee projects import (${CALLS} creations)`,
      ...cliImport(server.url, await seedKey(server)),
    },
  ];
  console.log(
    'client                                        done   requests   429s   429 share   achieved/s   ÷ limit',
  );
  for (const r of rows) {
    const rate = r.done / r.seconds;
    console.log(
      `${r.name.padEnd(44)} ${String(r.done).padStart(5)} ${String(r.requests).padStart(10)} ${String(r.rateLimited).padStart(6)} ${`${((r.rateLimited / Math.max(1, r.requests)) * 100).toFixed(1)} %`.padStart(11)} ${rate.toFixed(1).padStart(12)} ${`${((rate / LIMIT) * 100).toFixed(0)} %`.padStart(9)}`,
    );
  }
} finally {
  await server.close();
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
}
