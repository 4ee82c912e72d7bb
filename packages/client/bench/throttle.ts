/**
 * `pnpm bench` (client part): the throttle against a naive client, side by side, on the real API with a tight
 * limit, the CLI's bulk import, and uploads (items per second through the CLI and the library, and the share of the
 * limit the throttle used while uploading). Prints each one's achieved rate as a fraction of the limit, and how many of
 * its requests got a 429. Rates live here, not in `pnpm test`: they depend on how busy the machine is.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type E2EServer, startE2EServer, testConfig, tokenOf } from '@crowdee/api/testing';
import { openDatabase, startEmbeddedPostgres } from '@crowdee/db';
import { CrowdeeApiError, createClient, runBulk, ThrottleError } from '../src/index.ts';

const run = promisify(execFile);

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
async function cliImport(url: string, seeded: { key: string; orgId: string }) {
  execFileSync(process.execPath, ['build.mjs'], { cwd: new URL('..', import.meta.url) });
  const file = join(dir, 'projects.jsonl');
  writeFileSync(
    file,
    Array.from({ length: CALLS }, (_, i) => JSON.stringify({ name: `bench-${i}` })).join('\n'),
  );
  // Asynchronously: the API under test runs in this process, and a blocked event loop would never answer the CLI.
  const { stdout: out } = await run(
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

const UPLOAD_FILES = Number(process.env.BENCH_UPLOAD_FILES ?? 2000);
/** Small batches on purpose: the upload must need more requests than one window admits, so the throttle paces it. */
const UPLOAD_BATCH = Number(process.env.BENCH_UPLOAD_BATCH ?? 10);

interface UploadRow {
  name: string;
  items: number;
  requests: number;
  rateLimited: number;
  seconds: number;
}

async function datasetFor(url: string, seeded: { key: string; orgId: string }) {
  const client = createClient({ apiKey: seeded.key, baseUrl: url, throttle: false });
  try {
    const project = await client.rest.projects.create(seeded.orgId, { name: `bench-${Date.now()}` });
    const dataset = await client.rest.datasets.create(seeded.orgId, project.id, { name: 'bench' });
    return { orgId: seeded.orgId, projectId: project.id, datasetId: dataset.id };
  } finally {
    await client.close();
  }
}

/** `crowdee items upload DIR` in its own process: files in batches through the CLI's throttle. */
async function cliUpload(url: string, seeded: { key: string; orgId: string }): Promise<UploadRow> {
  const ref = await datasetFor(url, seeded);
  const folder = join(dir, `upload-${Date.now()}`);
  mkdirSync(folder);
  for (let i = 0; i < UPLOAD_FILES; i++) writeFileSync(join(folder, `f-${i}.txt`), `bench file ${i}`);
  const { stdout: out } = await run(
    process.execPath,
    [
      new URL('../dist/cli.js', import.meta.url).pathname,
      'items',
      'upload',
      '--dataset',
      ref.datasetId,
      '--project',
      ref.projectId,
      folder,
      '--batch-size',
      String(UPLOAD_BATCH),
      '--json',
    ],
    { env: { PATH: process.env.PATH, CROWDEE_API_KEY: seeded.key, CROWDEE_API_URL: url }, encoding: 'utf8' },
  );
  const r = JSON.parse(out) as { created: number; requests: number; rateLimited: number; seconds: number };
  return {
    name: `crowdee items upload (files, ${UPLOAD_BATCH}/batch)`,
    items: r.created,
    requests: r.requests,
    rateLimited: r.rateLimited,
    seconds: r.seconds,
  };
}

/** The library: text items in batches through `runBulk` and the throttle, as a script would write it. */
async function libraryUpload(url: string, seeded: { key: string; orgId: string }): Promise<UploadRow> {
  const ref = await datasetFor(url, seeded);
  const client = createClient({ apiKey: seeded.key, baseUrl: url, throttle: { maxConcurrent: 8 } });
  const batches = Array.from({ length: Math.ceil(UPLOAD_FILES / UPLOAD_BATCH) }, (_, b) =>
    Array.from({ length: UPLOAD_BATCH }, (_, i) => ({
      externalId: `t-${b}-${i}`,
      text: `bench text ${b} ${i}`,
    })),
  );
  const started = performance.now();
  let items = 0;
  const summary = await runBulk(batches, async (batch) => {
    // Awaited first: `items += await …` would read `items` before the wait and lose concurrent additions.
    const answer = await client.rest.items.addText(ref, batch);
    items += answer.created;
  });
  const codes = new Map<string, number>();
  for (const f of summary.failed) {
    const code =
      f.error instanceof CrowdeeApiError || f.error instanceof ThrottleError ? f.error.code : String(f.error);
    codes.set(code, (codes.get(code) ?? 0) + 1);
  }
  if (codes.size > 0) console.log(`  failed batches: ${JSON.stringify(Object.fromEntries(codes))}`);
  const seconds = (performance.now() - started) / 1000;
  const stats = client.throttle?.stats();
  await client.close();
  return {
    name: `client items.addText (text, ${UPLOAD_BATCH}/batch)`,
    items,
    requests: stats?.sent ?? 0,
    rateLimited: stats?.rateLimited ?? 0,
    seconds,
  };
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
      ...(await cliImport(server.url, await seedKey(server))),
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
  console.log(
    `\nUploads: ${UPLOAD_FILES} items each in batches of ${UPLOAD_BATCH}; the requests' share of the limit (${LIMIT}/s) is what the throttle used of it`,
  );
  console.log(
    'upload                                        items   requests   429s    items/s   requests/s   ÷ limit',
  );
  for (const r of [
    await cliUpload(server.url, await seedKey(server)),
    await libraryUpload(server.url, await seedKey(server)),
  ]) {
    const perSecond = r.requests / r.seconds;
    console.log(
      `${r.name.padEnd(44)} ${String(r.items).padStart(6)} ${String(r.requests).padStart(10)} ${String(r.rateLimited).padStart(6)} ${(r.items / r.seconds).toFixed(1).padStart(10)} ${perSecond.toFixed(1).padStart(12)} ${`${((perSecond / LIMIT) * 100).toFixed(0)} %`.padStart(9)}`,
    );
  }
} finally {
  await server.close();
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
}
