/**
 * `pnpm --filter @crowdee/client e2e:bulk`: issue #14's "done when", full size, run by hand (it takes minutes).
 *
 * Starts the product with the README's start command (`pnpm start`, embedded PostgreSQL in a temp DATA_DIR, a
 * free port, default rate limits), signs a user up through the API (the verification link from the server's
 * log), and then, through the built `crowdee` CLI: uploads FILES files in batches of 100, sends SIGINT once its
 * progress shows half of them, resumes with the command it printed, checks the dataset holds exactly FILES items,
 * counts the 429s from the client's own throttle stats (≤ 1 % of requests), starts a run with --wait and
 * compares every verdict with packages/core's pipeline run directly on the same items. Prints the numbers and
 * exits 1 if any check fails.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { countVerdicts, judgeDataset, type PipelineItem } from '@crowdee/core';
import { createClient } from '../src/index.ts';
import type { Item, Run } from '../src/rest-types.ts';

const FILES = Number(process.env.E2E_FILES ?? 10_000);
const BATCH = 100;
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'crowdee-e2e-bulk-'));
const checks: { name: string; ok: boolean; detail: string }[] = [];

function check(name: string, ok: boolean, detail: string): void {
  checks.push({ name, ok, detail });
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}: ${detail}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

interface Cli {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(
  args: string[],
  env: Record<string, string>,
  onLine?: (line: string, child: ChildProcess) => void,
): Promise<Cli> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
      pending += c;
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        onLine?.(pending.slice(0, nl), child);
        pending = pending.slice(nl + 1);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

const port = await freePort();
const url = `http://127.0.0.1:${port}`;
const serverLog = join(work, 'server.log');
const log = createWriteStream(serverLog);
let logged = '';
console.log(
  `Starting the product with the README's command: pnpm start (PORT=${port}, DATA_DIR=${work}/data)`,
);
const serverEnv: Record<string, string | undefined> = {
  ...process.env,
  PORT: String(port),
  DATA_DIR: join(work, 'data'),
};
// The README's command on a fresh machine: embedded PostgreSQL, no Redis, default limits.
delete serverEnv.DATABASE_URL;
delete serverEnv.REDIS_URL;
const server = spawn('npx', ['-y', 'pnpm@12.4.2', 'start'], { cwd: ROOT, env: serverEnv, detached: true });
for (const stream of [server.stdout, server.stderr]) {
  stream?.setEncoding('utf8').on('data', (c: string) => {
    logged += c;
    log.write(c);
  });
}

async function stopServer(): Promise<void> {
  if (server.exitCode !== null || server.pid === undefined) return;
  const exited = new Promise((resolve) => server.once('exit', resolve));
  process.kill(-server.pid, 'SIGTERM');
  await exited;
}

try {
  for (let up = false; !up; ) {
    if (server.exitCode !== null)
      throw new Error(`pnpm start exited with ${server.exitCode}; see ${serverLog}`);
    up = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (!up) await new Promise((r) => setTimeout(r, 1000));
  }
  console.log(`API up at ${url}`);

  // A user, a verified address (the link the server logged), an organization, a project and a member key.
  const email = `bulk-${Date.now()}@example.com`;
  let cookie = '';
  const trpc = async <T>(path: string, input: unknown): Promise<T> => {
    const r = await fetch(`${url}/trpc/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie, 'sec-fetch-site': 'same-origin' },
      body: JSON.stringify(input),
    });
    const set = r.headers.getSetCookie()[0];
    if (set) cookie = set.split(';')[0] ?? cookie;
    const body = (await r.json()) as { result?: { data: T }; error?: unknown };
    if (!body.result) throw new Error(`${path}: ${JSON.stringify(body.error)}`);
    return body.result.data;
  };
  await trpc('auth.signUp', { email, password: 'e2e bulk password 123', name: 'Bulk' });
  let link: RegExpExecArray | null = null;
  while (!link) {
    link = new RegExp(`to ${email.replace(/[.+]/g, '\\$&')} written to .*? Its link: ([^\\s"\\\\]+)`).exec(
      logged,
    );
    if (!link) await new Promise((r) => setTimeout(r, 200));
  }
  const token = new URLSearchParams(new URL(link[1] ?? '').hash.slice(1)).get('token') ?? '';
  await trpc('auth.verifyEmail', { token });
  const org = await trpc<{ id: string }>('orgs.create', { name: 'Bulk' });
  await trpc('orgs.setActive', { orgId: org.id });
  const project = await trpc<{ id: string }>('projects.create', { orgId: org.id, name: 'Bulk' });
  const { key } = await trpc<{ key: string }>('keys.create', {
    name: 'bulk',
    role: 'member',
    orgIds: [org.id],
  });
  const env = { CROWDEE_API_KEY: key, CROWDEE_API_URL: url };

  await new Promise<void>((resolve, reject) =>
    execFile(process.execPath, ['build.mjs'], { cwd: fileURLToPath(new URL('..', import.meta.url)) }, (e) =>
      e ? reject(e) : resolve(),
    ),
  );
  const created = await cli(['datasets', 'create', '--project', project.id, 'bulk', '--json'], env);
  const datasetId = (JSON.parse(created.stdout) as { id: string }).id;

  const folder = join(work, 'files');
  mkdirSync(folder);
  for (let i = 0; i < FILES; i++) {
    const content = i % 97 === 0 ? '' : i % 50 === 1 ? 'the same bytes' : `file ${i}`;
    writeFileSync(join(folder, `f-${String(i).padStart(5, '0')}.txt`), content);
  }

  const args = ['items', 'upload', '--dataset', datasetId, folder, '--batch-size', String(BATCH), '--json'];
  let signalled = false;
  const first = await cli(args, env, (line, child) => {
    const seen = /^items (\d+)\//.exec(line);
    if (!signalled && seen && Number(seen[1]) >= FILES / 2) {
      signalled = true;
      child.kill('SIGINT');
    }
  });
  type Upload = {
    created: number;
    skipped: number;
    failed: number;
    batches: number;
    requests: number;
    rateLimited: number;
    seconds: number;
    interrupted: boolean;
    resume?: string;
    ratePerSecond: number;
  };
  const a = JSON.parse(first.stdout) as Upload;
  check(
    'SIGINT halfway stops cleanly',
    first.code === 130 && a.interrupted && a.failed === 0,
    `exit ${first.code}, ${a.created} uploaded in ${a.batches} batches, resume: ${a.resume}`,
  );
  const second = await cli(args, env);
  const b = JSON.parse(second.stdout) as Upload;
  check(
    'resume finishes',
    second.code === 0 && b.skipped === a.created && b.failed === 0,
    `exit ${second.code}, ${b.skipped} skipped, ${b.created} uploaded in ${b.batches} batches`,
  );

  const client = createClient({ apiKey: key, baseUrl: url });
  const ref = { orgId: org.id, projectId: project.id, datasetId };
  const ids = await client.rest.items.listExternalIds(ref);
  const dataset = await client.rest.datasets.get(ref);
  check(
    `exactly ${FILES} items`,
    ids.size === FILES && dataset.itemCount === FILES,
    `${ids.size} distinct externalIds, itemCount ${dataset.itemCount}`,
  );
  check('≥ 20 batches', a.batches + b.batches >= 20, `${a.batches + b.batches}`);
  const requests = a.requests + b.requests;
  const limited = a.rateLimited + b.rateLimited;
  check(
    '≤ 1 % 429s (client throttle stats)',
    limited <= requests * 0.01,
    `${limited} of ${requests} requests (${((limited / requests) * 100).toFixed(2)} %)`,
  );
  const uploadSeconds = a.seconds + b.seconds;
  console.log(
    `upload: ${FILES} files in ${uploadSeconds.toFixed(1)} s of CLI time = ${(FILES / uploadSeconds).toFixed(1)} items/s`,
  );

  const runStarted = performance.now();
  const ran = await cli(['runs', 'start', '--dataset', datasetId, '--wait', '--json'], env);
  const run = JSON.parse(ran.stdout) as Run;
  const runSeconds = (performance.now() - runStarted) / 1000;
  check(
    'run succeeds',
    ran.code === 0 && run.status === 'succeeded' && run.processed === FILES,
    `${run.status}, ${run.processed}/${run.total} in ${runSeconds.toFixed(1)} s (${(FILES / runSeconds).toFixed(1)} items/s), counts ${JSON.stringify(run.counts)}`,
  );

  // The same items judged by packages/core directly, from the API's own item listing.
  const items: Item[] = [];
  let cursor: string | null = null;
  do {
    const page = await client.rest.items.list(ref, { limit: 100, cursor: cursor ?? undefined });
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  // The listing is in dataset order (creation time at the database's precision, then id); the pipeline only
  // compares createdAt, so the rank in that order stands in for the timestamp whatever its unit.
  const pipelineItems: PipelineItem[] = items.map((i, rank) => ({
    id: i.id,
    createdAt: rank,
    kind: i.kind,
    mediaType: i.mediaType,
    size: i.size,
    sha256: i.sha256,
    text: null,
  }));
  const judged = new Map(judgeDataset(run.pipeline, pipelineItems).map((j) => [j.itemId, j]));
  let same = 0;
  let results = 0;
  for await (const r of client.rest.runs.exportJsonl(ref, run.id)) {
    results++;
    const j = judged.get(r.itemId);
    if (j && j.verdict === r.verdict && isDeepStrictEqual(j.reasons, r.reasons)) same++;
  }
  check(
    'verdicts identical to core',
    same === FILES && results === FILES,
    `${same} of ${results} results equal; core counts ${JSON.stringify(countVerdicts(judged.values()))}`,
  );
  await client.close();
} finally {
  await stopServer();
  log.end();
}
const failed = checks.filter((c) => !c.ok);
console.log(
  failed.length === 0
    ? `\nAll ${checks.length} checks passed.`
    : `\n${failed.length} of ${checks.length} checks FAILED (server log: ${serverLog}).`,
);
if (failed.length === 0) rmSync(work, { recursive: true, force: true });
process.exitCode = failed.length === 0 ? 0 : 1;
