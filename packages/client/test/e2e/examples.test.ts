/**
 * The getting-started guide's worked examples, run as a reader would run them: every file under docs/examples
 * (curl, the CLI, TypeScript with @crowdee/client) against a real API with a freshly issued key, its output
 * compared with the output the guide shows next to it (`<file>.out`, where `<…>` stands for a value that differs
 * per run). A broken example or a drifted output fails here, and the served page is checked to include them all.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type E2EServer, startE2EServer, testConfig, tokenOf } from '@crowdee/api/testing';
import { createTestDatabase, type TestDatabase } from '@crowdee/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ensureCliBuilt, PACKAGE_DIR } from './helpers.ts';

const DOCS = fileURLToPath(new URL('../../../../docs/', import.meta.url));
const EXAMPLES = join(DOCS, 'examples');
const EXAMPLE_FILE = /\.(sh|ts)$/;

const examples = readdirSync(EXAMPLES, { recursive: true, encoding: 'utf8' })
  .filter((f) => EXAMPLE_FILE.test(f))
  .sort();

const hasCurl = existsSync('/usr/bin/curl') || existsSync('/bin/curl');
if (!hasCurl)
  console.warn('[client] SKIPPED the curl examples: no curl on this machine (apt-get install -y curl).');

/** `shown` with `<…>` placeholders (any text within a line) against what the example printed. */
function textMatches(actual: string, shown: string): boolean {
  const pattern = shown
    .trimEnd()
    .split('\n')
    .map((line) =>
      line
        .split(/<[^<>\n]+>/)
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('.+?'),
    )
    .join('\n');
  // HTTP header lines end in CRLF on the wire; a terminal shows them as lines all the same.
  return new RegExp(`^${pattern}$`).test(actual.replace(/\r\n/g, '\n').trimEnd());
}

/** JSON shown pretty with `"<…>"` placeholders against the (compact) JSON an example printed. */
function jsonMatches(actual: unknown, shown: unknown): boolean {
  if (typeof shown === 'string' && /^<[^<>]+>$/.test(shown)) return actual !== undefined;
  if (Array.isArray(shown)) {
    return (
      Array.isArray(actual) &&
      actual.length === shown.length &&
      shown.every((s, i) => jsonMatches(actual[i], s))
    );
  }
  if (shown !== null && typeof shown === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
    const a = actual as Record<string, unknown>;
    const s = shown as Record<string, unknown>;
    const keys = Object.keys(s).sort();
    return (
      JSON.stringify(Object.keys(a).sort()) === JSON.stringify(keys) &&
      keys.every((k) => jsonMatches(a[k], s[k]))
    );
  }
  return actual === shown;
}

function outputMatches(actual: string, shown: string): boolean {
  try {
    return jsonMatches(JSON.parse(actual), JSON.parse(shown));
  } catch {
    return textMatches(actual, shown);
  }
}

let db: TestDatabase;
let server: E2EServer;
let env: Record<string, string>;
const shimDir = mkdtempSync(join(tmpdir(), 'crowdee-examples-'));

async function trpc<T>(cookie: string, path: string, input: unknown): Promise<{ data: T; cookie: string }> {
  const response = await fetch(`${server.url}/trpc/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie, 'sec-fetch-site': 'same-origin' },
    body: JSON.stringify(input),
  });
  const setCookie = response.headers.getSetCookie()[0];
  const body = (await response.json()) as { result?: { data: T }; error?: unknown };
  if (!body.result) throw new Error(`${path}: ${JSON.stringify(body.error)}`);
  return { data: body.result.data, cookie: setCookie ? (setCookie.split(';')[0] ?? cookie) : cookie };
}

beforeAll(async () => {
  await ensureCliBuilt();
  // `crowdee` on PATH, as an installed CLI would be.
  const shim = join(shimDir, 'crowdee');
  writeFileSync(shim, `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
  chmodSync(shim, 0o755);

  db = await createTestDatabase();
  const base = testConfig();
  server = await startE2EServer({
    databaseUrl: db.url,
    fastPasswordHashing: true,
    config: { rateLimits: { ...base.rateLimits, enabled: true, namespace: `examples-${Date.now()}` } },
  });
  const email = `ada.${Date.now()}@example.com`;
  const signedUp = await trpc<unknown>('', 'auth.signUp', {
    email,
    password: 'getting started password',
    name: 'Ada Lovelace',
  });
  const cookie = signedUp.cookie;
  // Creating an organization needs a verified address: follow the link mailed to the test's SMTP server.
  const mail = await server.mailbox.take(email, 'verify-email');
  await trpc(cookie, 'auth.verifyEmail', { token: tokenOf(mail.link) });
  const org = await trpc<{ id: string }>(cookie, 'orgs.create', { name: 'Analytical Engines' });
  await trpc(cookie, 'orgs.setActive', { orgId: org.data.id });
  await trpc(cookie, 'projects.create', { orgId: org.data.id, name: 'Website crawl' });
  const key = await trpc<{ key: string }>(cookie, 'keys.create', {
    name: 'getting-started',
    role: 'member',
    orgIds: [org.data.id],
    expiresInDays: 30,
  });
  const token = await trpc<{ token: string }>(cookie, 'auth.createSessionToken', {
    audience: 'reports-service',
  });
  env = {
    PATH: `${shimDir}:${process.env.PATH ?? ''}`,
    CROWDEE_API_URL: server.url,
    CROWDEE_API_KEY: key.data.key,
    CROWDEE_ORG_ID: org.data.id,
    CROWDEE_SESSION_TOKEN: token.data.token,
  };
});

afterAll(async () => {
  await server?.close();
  await db?.drop();
});

function run(file: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const path = join(EXAMPLES, file);
  const [command, args] = file.endsWith('.ts')
    ? [process.execPath, ['--import', 'tsx', path]]
    : ['bash', ['-eo', 'pipefail', path]];
  return new Promise((resolve) => {
    execFile(command, args, { cwd: PACKAGE_DIR, env, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('getting-started examples, run against a real server', () => {
  it('has examples for curl, the CLI and TypeScript, each with its shown output', () => {
    expect(new Set(examples.map((f) => f.split('/')[0]))).toEqual(new Set(['cli', 'curl', 'typescript']));
    for (const file of examples) expect(existsSync(join(EXAMPLES, `${file}.out`)), file).toBe(true);
  });

  it.each(examples)('%s prints what the guide shows', async (file) => {
    if (file.startsWith('curl/') && !hasCurl) return;
    const result = await run(file);
    expect(result.stderr, file).toBe('');
    expect(result.code, file).toBe(0);
    const shown = readFileSync(join(EXAMPLES, `${file}.out`), 'utf8');
    expect(
      outputMatches(result.stdout, shown),
      `${file} printed:\n${result.stdout}\nthe guide shows:\n${shown}`,
    ).toBe(true);
    expect(result.stdout).not.toContain(env.CROWDEE_API_KEY);
  });

  it('the page at /docs/getting-started includes every example and its output, with working anchors', async () => {
    const response = await fetch(`${server.url}/docs/getting-started`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    const html = await response.text();
    const escapeHtml = (text: string) =>
      text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
    for (const file of examples) {
      expect(html, file).toContain(escapeHtml(readFileSync(join(EXAMPLES, file), 'utf8').trimEnd()));
      expect(html, `${file}.out`).toContain(
        escapeHtml(readFileSync(join(EXAMPLES, `${file}.out`), 'utf8').trimEnd()),
      );
    }
    // No client-side script, and every in-page link lands on an element with that id.
    expect(html).not.toMatch(/<script/i);
    const ids = new Set([...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]));
    const anchors = [...html.matchAll(/href="#([^"]+)"/g)].map((m) => m[1]);
    expect(anchors.length).toBeGreaterThan(5);
    for (const anchor of anchors) expect(ids.has(anchor), `#${anchor}`).toBe(true);
    // Reachable from discovery.
    const root = (await (await fetch(server.url, { headers: { accept: 'application/json' } })).json()) as {
      links: Record<string, string>;
    };
    expect(root.links.gettingStarted).toBe('/docs/getting-started');
  });
});
