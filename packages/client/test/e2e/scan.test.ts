/**
 * `crowdee scan`, as a CI job runs it: finds our keys in files offline (checksum validated, so look-alikes never
 * count), prints where with the hint only, exits non-zero when it finds any, and `--report` revokes them through
 * the public leak endpoint of the real API.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  generateKey,
  generateSessionBoundToken,
  KEY_PREFIX,
  keyChecksum,
  keyHint,
  randomBase62,
} from '@crowdee/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Api, CLI, ensureCliBuilt, runCli, seed, startApi } from './helpers.ts';

const LOOK_ALIKES = 100_000;

let api: Api;
const dirs: string[] = [];
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'crowdee-scan-'));
  dirs.push(dir);
  return dir;
}

beforeAll(async () => {
  await ensureCliBuilt();
  api = await startApi({ quota: 1000, windowSeconds: 60 });
});
afterAll(async () => {
  await api?.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function lookAlike(): string {
  const body = KEY_PREFIX + randomBase62(30);
  const right = keyChecksum(body);
  let checksum = randomBase62(6);
  while (checksum === right) checksum = randomBase62(6);
  return body + checksum;
}

describe('crowdee scan', () => {
  it(`${LOOK_ALIKES.toLocaleString('en')} random strings of the key's shape with a wrong checksum: 0 hits, exit 0`, async () => {
    const dir = freshDir();
    // In the contexts keys leak from, 10,000 per file.
    const contexts = [
      (k: string) => `CROWDEE_API_KEY=${k}`,
      (k: string) => `const key = "${k}";`,
      (k: string) => `curl -H "Authorization: Bearer ${k}" https://api.example.com`,
      (k: string) => `{"apiKey": "${k}"}`,
      (k: string) => k,
    ];
    for (let file = 0; file < LOOK_ALIKES / 10_000; file++) {
      const context = contexts[file % contexts.length] ?? ((k: string) => k);
      writeFileSync(
        join(dir, `lookalikes-${file}.txt`),
        Array.from({ length: 10_000 }, () => context(lookAlike())).join('\n'),
      );
    }
    const r = await runCli(['scan', dir, '--json'], {});
    const out = JSON.parse(r.stdout) as { findings: unknown[]; filesScanned: number };
    console.info(
      `crowdee scan: ${out.findings.length} hits in ${LOOK_ALIKES} look-alikes (${out.filesScanned} files)`,
    );
    expect([r.code, out.findings.length, out.filesScanned]).toEqual([0, 0, LOOK_ALIKES / 10_000]);
  });

  it('reports path:line:column with the hint, never the key, and exits 1', async () => {
    const dir = freshDir();
    const key = generateKey().key;
    mkdirSync(join(dir, 'deploy'));
    writeFileSync(join(dir, 'deploy', 'run.sh'), `#!/bin/sh\n\nexport CROWDEE_API_KEY=${key}\n`);
    const human = await runCli(['scan', dir], {});
    expect(human.code).toBe(1);
    expect(human.stdout).toContain(`${join(dir, 'deploy', 'run.sh')}:3:24: Crowdee API key ${keyHint(key)}`);
    expect(human.stdout).toMatch(/1 Crowdee API key\(s\) found in 1 file\(s\) \(1 scanned\)/);
    const json = await runCli(['scan', dir, '--json'], {});
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).findings).toEqual([
      { path: join(dir, 'deploy', 'run.sh'), kind: 'key', line: 3, column: 24, hint: keyHint(key) },
    ]);
    for (const text of [human.stdout, human.stderr, json.stdout, json.stderr])
      expect(text).not.toContain(key);
  });

  it('finds session tokens (cds_) too, names them as such, and never prints them', async () => {
    const dir = freshDir();
    const key = generateKey().key;
    const token = generateSessionBoundToken().key;
    writeFileSync(join(dir, 'service.env'), `SERVICE_TOKEN=${token}\nCROWDEE_API_KEY=${key}\n`);
    const human = await runCli(['scan', dir], {});
    expect(human.code).toBe(1);
    expect(human.stdout).toContain(`service.env:1:15: Crowdee session token ${keyHint(token)}`);
    expect(human.stdout).toContain(`service.env:2:17: Crowdee API key ${keyHint(key)}`);
    expect(human.stdout).toMatch(/2 Crowdee API key\(s\) and session token\(s\) found in 1 file\(s\)/);
    const json = await runCli(['scan', dir, '--json'], {});
    expect(JSON.parse(json.stdout).findings.map((f: { kind: string }) => f.kind)).toEqual([
      'session-token',
      'key',
    ]);
    for (const text of [human.stdout, human.stderr, json.stdout, json.stderr])
      expect(text).not.toContain(token);
  });

  it('reads stdin for "-", skips .git and node_modules, and honours the allow marker', async () => {
    const dir = freshDir();
    const [a, b, c] = [generateKey().key, generateKey().key, generateKey().key];
    mkdirSync(join(dir, '.git'));
    mkdirSync(join(dir, 'node_modules'));
    writeFileSync(join(dir, '.git', 'ORIG_HEAD'), a);
    writeFileSync(join(dir, 'node_modules', 'x.js'), a);
    writeFileSync(
      join(dir, 'vector.ts'),
      `const pinned = '${b}'; // crowdee-scan:allow (test vector)\nconst real = '${c}';\n`,
    );
    const r = await runCli(['scan', dir, '--json'], {});
    expect(JSON.parse(r.stdout).findings).toEqual([
      { path: join(dir, 'vector.ts'), kind: 'key', line: 2, column: 15, hint: keyHint(c) },
    ]);

    const piped = await new Promise<{ code: number; stdout: string }>((resolve) => {
      const child = execFile(process.execPath, [CLI, 'scan', '-', '--json'], (error, stdout) =>
        resolve({ code: error ? Number(error.code) : 0, stdout }),
      );
      child.stdin?.end(`log line: token=${a}\n`);
    });
    expect(piped.code).toBe(1);
    expect(JSON.parse(piped.stdout).findings).toEqual([
      { path: '(stdin)', kind: 'key', line: 1, column: 17, hint: keyHint(a) },
    ]);
  });

  it('--report revokes the found keys through the public leak endpoint; they stop working at once', async () => {
    const { key } = await seed(api, 'viewer');
    const me = () =>
      fetch(`${api.server.url}/api/v1/me`, { headers: { authorization: `Bearer ${key}` } }).then(
        (r) => r.status,
      );
    expect(await me()).toBe(200);
    const dir = freshDir();
    writeFileSync(join(dir, '.env'), `CROWDEE_API_KEY=${key}\n`);
    // An unknown but well-formed key rides along: reported, nothing to revoke, and the answer does not say which.
    writeFileSync(join(dir, 'old.env'), `CROWDEE_API_KEY=${generateKey().key}\n`);

    const r = await runCli(['scan', dir, '--report', '--json'], { CROWDEE_API_URL: api.server.url });
    expect(r.code, r.stderr).toBe(1);
    expect(JSON.parse(r.stdout).report).toEqual({ sent: 2, revoked: 1 });
    expect(r.stdout + r.stderr).not.toContain(key);
    expect(await me()).toBe(401);

    const again = await runCli(['scan', dir, '--report'], { CROWDEE_API_URL: api.server.url });
    expect(again.code).toBe(1);
    expect(again.stdout).toContain(
      'Reported 2 key(s) to the leak endpoint: 0 were active and are now revoked.',
    );
  });

  it('answers a usage error with exit 2 and finds nothing in an empty folder (exit 0)', async () => {
    expect((await runCli(['scan', freshDir()], {})).code).toBe(0);
    expect((await runCli(['scan', '--unknown'], {})).code).toBe(2);
    expect((await runCli(['scan', '--help'], {})).stdout).toMatch(/crowdee scan \[PATH…\]/);
  });
});
