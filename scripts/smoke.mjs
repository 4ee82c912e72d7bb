#!/usr/bin/env node
// Smoke test of the built product as a user runs it: start the server (embedded PostgreSQL in a throw-away data
// folder unless DATABASE_URL is set), wait for /healthz, sign up, verify the address from the mail the embedded
// default writes under DATA_DIR/mail (no SMTP_URL), create an organization, issue a key and call GET /api/v1/me. Used by .ci/run on the secondary Node.js line; plain Node, no dependencies.
// Run after a build: `node scripts/smoke.mjs` (pnpm start builds; `pnpm build` does too).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function fail(message) {
  throw new Error(`smoke: ${message}`);
}

const port = await freePort();
const dataDir = mkdtempSync(join(tmpdir(), 'crowdee-smoke-'));
const base = `http://127.0.0.1:${port}`;
const child = spawn(process.execPath, ['apps/api/dist/main.js'], {
  cwd: root,
  env: {
    ...process.env,
    SMTP_URL: '',
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
  },
  stdio: ['ignore', 'inherit', 'inherit'],
});
const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));

async function waitForHealth() {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) fail(`server exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.ok) return res.json();
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  fail('no healthy /healthz within 120 s');
}

let cookie = '';
async function trpc(path, input) {
  const res = await fetch(`${base}/trpc/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie, 'sec-fetch-site': 'same-origin' },
    body: JSON.stringify(input),
  });
  const setCookie = res.headers.getSetCookie()[0];
  if (setCookie) cookie = setCookie.split(';')[0] ?? '';
  const body = await res.json();
  if (!body.result) fail(`${path} answered ${res.status}: ${JSON.stringify(body.error ?? body)}`);
  return body.result.data;
}

/** The verification token from the .eml the server wrote for `email` (mail is sent after the answer: wait for it). */
async function verificationToken(email) {
  const dir = join(dataDir, 'mail');
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    for (const file of existsSync(dir) ? readdirSync(dir) : []) {
      const raw = readFileSync(join(dir, file), 'utf8');
      // The text part is quoted-printable: undo its soft line breaks and its "=3D" before looking for the link.
      const text = raw.replace(/=\r?\n/g, '').replace(/=3D/gi, '=');
      if (!text.includes(email)) continue;
      const token = /verify-email#token=(cdv_[0-9A-Za-z]+)/.exec(text)?.[1];
      if (token) return token;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  fail(`no verification mail for ${email} under ${dir} within 30 s`);
}

try {
  const health = await waitForHealth();
  console.log(`smoke: node ${process.version}, /healthz ${JSON.stringify(health)}`);
  const email = `smoke-${Date.now()}@example.com`;
  await trpc('auth.signUp', { email, password: 'smoke test password', name: 'Smoke' });
  await trpc('auth.verifyEmail', { token: await verificationToken(email) });
  console.log(`smoke: verified ${email} from the mail written under DATA_DIR/mail`);
  const org = await trpc('orgs.create', { name: 'Smoke Org' });
  await trpc('orgs.setActive', { orgId: org.id });
  const created = await trpc('keys.create', { name: 'smoke', role: 'viewer', orgIds: [org.id] });
  const me = await fetch(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${created.key}` } });
  const meBody = await me.json();
  if (me.status !== 200) fail(`GET /api/v1/me answered ${me.status}: ${JSON.stringify(meBody)}`);
  if (meBody?.key?.id !== created.apiKey.id)
    fail(`GET /api/v1/me named another key: ${JSON.stringify(meBody)}`);
  console.log(`smoke: GET /api/v1/me with a new key → ${me.status}, key ${meBody.key.id}`);
  console.log('smoke: passed');
} finally {
  child.kill('SIGTERM');
  const code = await exited;
  rmSync(dataDir, { recursive: true, force: true });
  if (code !== 0) console.error(`smoke: server exited with ${code} after SIGTERM`);
}
