import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type E2EServer, startE2EServer, testConfig, tokenOf } from '@crowdee/api/testing';
import { createTestDatabase } from '@crowdee/db/testing';

export const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** The CLI as a script runs it: the built bin, in its own process. Rebuilt first (esbuild takes ~0.1 s). */
export async function ensureCliBuilt(): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    execFile(process.execPath, ['build.mjs'], { cwd: PACKAGE_DIR }, (error) =>
      error ? reject(error) : resolve(),
    ),
  );
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: Record<string, string | undefined>): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { PATH: process.env.PATH, ...env }, maxBuffer: 32 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export interface Api {
  server: E2EServer;
  close(): Promise<void>;
}

/** The real API on a fresh database, with the given authenticated quota (rate limits on); run workers if asked. */
export async function startApi(
  authenticated: { quota: number; windowSeconds: number },
  redisUrl?: string,
  options: { workers?: boolean } = {},
): Promise<Api> {
  const db = await createTestDatabase();
  const base = testConfig();
  const server = await startE2EServer({
    databaseUrl: db.url,
    fastPasswordHashing: true,
    ...(redisUrl ? { redisUrl } : {}),
    ...(options.workers ? { workers: true } : {}),
    config: {
      rateLimits: {
        enabled: true,
        namespace: `client-e2e-${Math.random().toString(36).slice(2, 8)}`,
        policies: {
          ...base.rateLimits.policies,
          authenticated: { name: 'authenticated', ...authenticated },
          anonymous: { name: 'anonymous', quota: 10_000, windowSeconds: 60 },
        },
      },
    },
  });
  return {
    server,
    async close() {
      await server.close();
      await db.drop();
    },
  };
}

/** A user with a verified address, an organization and a key of the given role, made through the API. */
export async function seed(api: Api, role: 'viewer' | 'member' | 'admin' = 'admin') {
  const deps = api.server.deps;
  const email = `e2e-${Date.now()}-${Math.random()}@example.com`;
  const password = 'client e2e password';
  const res = await fetch(`${api.server.url}/trpc/auth.signUp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password, name: 'E2E' }),
  });
  const cookie = (res.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
  const send = async <T>(path: string, input: unknown) => {
    const r = await fetch(`${api.server.url}/trpc/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie, 'sec-fetch-site': 'same-origin' },
      body: JSON.stringify(input),
    });
    return (await r.json()) as { result?: { data: T }; error?: { data?: { code?: string } } };
  };
  const call = async <T>(path: string, input: unknown): Promise<T> => {
    let body = await send<T>(path, input);
    // Sudo mode (a sign-in more than 10 minutes old on a slow run): confirm as the settings app would, retry once.
    if (body.error?.data?.code === 'REAUTHENTICATION_REQUIRED') {
      const confirmed = await send('auth.confirmSudo', { password });
      if (!confirmed.result) throw new Error(`auth.confirmSudo: ${JSON.stringify(confirmed.error)}`);
      body = await send<T>(path, input);
    }
    if (!body.result) throw new Error(`${path}: ${JSON.stringify(body.error)}`);
    return body.result.data;
  };
  // Creating an organization needs a verified address: follow the link the API mailed to the test's SMTP server.
  const mail = await api.server.mailbox.take(email, 'verify-email');
  await call('auth.verifyEmail', { token: tokenOf(mail.link) });
  const org = await call<{ id: string }>('orgs.create', { name: 'E2E Org' });
  await call('orgs.setActive', { orgId: org.id });
  const other = await call<{ id: string }>('orgs.create', { name: 'Other Org' });
  const created = await call<{ key: string; apiKey: { id: string } }>('keys.create', {
    name: 'e2e',
    role,
    orgIds: [org.id],
  });
  return { deps, orgId: org.id, otherOrgId: other.id, key: created.key, keyId: created.apiKey.id, call };
}

/** What the API's rate limiter decided for the caller's authenticated budget, counted per fixed window. */
export interface KeyWindowTally {
  admitted: number;
  refused: number;
  /** Windows that admitted at least one request: each starts with `remaining = quota - points`. */
  windows: number;
}

/**
 * Observes the running API's limiter decisions on the authenticated budget (the one a user's keys share): a
 * pass-through tap on its real store, which keeps counting as before. Counts instead of durations: they hold
 * however slow the machine is.
 */
export function tallyKeyWindows(api: Api): KeyWindowTally {
  const store = api.server.deps.limits?.store;
  if (!store) throw new Error('rate limits are off in this API');
  const tally: KeyWindowTally = { admitted: 0, refused: 0, windows: 0 };
  const count = (
    charges: Parameters<typeof store.consumeAll>[0],
    result: Awaited<ReturnType<typeof store.consumeAll>>,
  ) => {
    charges.forEach((charge, i) => {
      const decision = result.decisions[i];
      if (!decision || (charge.policy.name !== 'user' && charge.policy.name !== 'key')) return;
      if (!result.allowed) tally.refused++;
      else {
        tally.admitted++;
        if (decision.remaining === charge.policy.quota - charge.points) tally.windows++;
      }
    });
    return result;
  };
  // Both ways the limiter decides: in process without a promise (memory store), and asked (Redis).
  const consumeAll = store.consumeAll.bind(store);
  const consumeNow = store.consumeNow.bind(store);
  store.consumeAll = async (charges) => count(charges, await consumeAll(charges));
  store.consumeNow = (charges) => {
    const result = consumeNow(charges);
    return result === undefined ? undefined : count(charges, result);
  };
  return tally;
}

/**
 * The built CLI as a child process whose stderr is watched line by line: `onLine` sees each line as it comes
 * (to send a signal when the output shows a count, never after some time).
 */
export function spawnCli(
  args: string[],
  env: Record<string, string | undefined>,
  onLine: (line: string, child: ChildProcess) => void,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      pending += chunk;
      let newline = pending.indexOf('\n');
      while (newline >= 0) {
        onLine(pending.slice(0, newline), child);
        pending = pending.slice(newline + 1);
        newline = pending.indexOf('\n');
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
}
