import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Api, ensureCliBuilt, PACKAGE_DIR, runCli, seed, startApi } from './helpers.ts';

let api: Api;
let fixture: Awaited<ReturnType<typeof seed>>;
let env: Record<string, string>;
const dir = mkdtempSync(join(tmpdir(), 'crowdee-cli-'));

beforeAll(async () => {
  await ensureCliBuilt();
  api = await startApi({ quota: 1000, windowSeconds: 60 });
  fixture = await seed(api, 'admin');
  env = { CROWDEE_API_KEY: fixture.key, CROWDEE_API_URL: api.server.url };
});
afterAll(async () => {
  await api?.close();
});

function expectNoKey(...texts: string[]): void {
  for (const text of texts) expect(text).not.toContain(fixture.key);
}

describe('crowdee CLI, as a script uses it', () => {
  it('has --help on every command, exiting 0', async () => {
    for (const args of [
      ['--help'],
      ['whoami', '--help'],
      ['status', '--help'],
      ['projects', 'list', '--help'],
      ['projects', 'import', '--help'],
      ['keys', 'revoke-current', '--help'],
    ]) {
      const r = await runCli(args, {});
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/crowdee/);
    }
  });

  it('whoami shows the key by its hint, its creator and effective roles', async () => {
    const r = await runCli(['whoami'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Key cdk_\w{4}…\w{4} "e2e" — role admin/);
    expect(r.stdout).toContain('E2E Org');
    const json = await runCli(['whoami', '--json'], env);
    expect(JSON.parse(json.stdout)).toMatchObject({
      key: { role: 'admin' },
      organizations: [{ effectiveRole: 'admin' }],
    });
    expectNoKey(r.stdout, r.stderr, json.stdout);
  });

  it('warns on stderr (never stdout) when its key expires within 7 days, and names a missing permission', async () => {
    await fixture.call('orgs.setActive', { orgId: fixture.orgId });
    const soon = await fixture.call<{ key: string }>('keys.create', {
      name: 'short',
      role: 'member',
      expiresInDays: 3,
      permissions: ['projects:read'],
    });
    const soonEnv = { CROWDEE_API_KEY: soon.key, CROWDEE_API_URL: api.server.url };
    for (const args of [
      ['whoami'],
      ['whoami', '--json'],
      ['projects', 'list', '--org', fixture.orgId, '--json'],
    ]) {
      const r = await runCli(args, soonEnv);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stderr, args.join(' ')).toMatch(/warning: the key cdk_\w{4}…\w{4} expires .+, within 7 days/);
      expect(r.stdout).not.toContain('warning');
      expectNoKey(r.stdout, r.stderr);
    }
    const whoami = await runCli(['whoami'], soonEnv);
    expect(whoami.stdout).toContain('only projects:read');
    // The long-lived fixture key: no warning.
    expect((await runCli(['whoami'], env)).stderr).toBe('');
    // The restricted key may not write: the CLI says which permission it lacks.
    const file = join(dir, 'one.jsonl');
    writeFileSync(file, '{"name":"x"}\n');
    const refused = await runCli(['projects', 'import', '--org', fixture.orgId, file], soonEnv);
    expect(refused.code).toBe(1);
    expect(refused.stdout + refused.stderr).toContain('projects:write');
  });

  it('refuses a key given on the command line, and reads one from a file', async () => {
    const refused = await runCli(['whoami', '--api-key', fixture.key], { CROWDEE_API_URL: api.server.url });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/process list/);
    const file = join(dir, 'key');
    writeFileSync(file, `${fixture.key}\n`);
    chmodSync(file, 0o600);
    const fromFile = await runCli(['whoami', '--api-key-file', file], { CROWDEE_API_URL: api.server.url });
    expect(fromFile.code).toBe(0);
    expect(fromFile.stderr).toBe('');
    chmodSync(file, 0o644);
    const loose = await runCli(['whoami', '--api-key-file', file], { CROWDEE_API_URL: api.server.url });
    expect(loose.stderr).toMatch(/readable by other users/);
  });

  it('fails with exit 1 and the server’s code when the API refuses, 2 on usage errors', async () => {
    const wrongOrg = await runCli(['projects', 'list', '--org', fixture.otherOrgId], env);
    expect(wrongOrg.code).toBe(1);
    expect(wrongOrg.stderr).toMatch(/403 ORG_OUT_OF_SCOPE/);
    expect((await runCli(['projects', 'import'], env)).code).toBe(2);
    expect((await runCli(['frobnicate'], env)).code).toBe(2);
    expect((await runCli(['whoami'], { CROWDEE_API_URL: api.server.url })).code).toBe(2);
  });

  it('imports projects from JSON Lines through the throttle, reports failures by line, and never loses the rest', async () => {
    const file = join(dir, 'projects.jsonl');
    const lines = [
      ...Array.from({ length: 30 }, (_, i) => JSON.stringify({ name: `import-${i}`, description: `#${i}` })),
      '{"name": "import-3"}',
      'not json',
      '',
      '{"description": "no name"}',
      JSON.stringify({ name: 'last one' }),
    ];
    writeFileSync(file, lines.join('\n'));
    const r = await runCli(['projects', 'import', '--org', fixture.orgId, file, '--json'], env);
    expect(r.code).toBe(1);
    const summary = JSON.parse(r.stdout) as {
      total: number;
      created: number;
      failures: { line: number; code: string }[];
    };
    expect(summary.total).toBe(34);
    expect(summary.created).toBe(31);
    expect(summary.failures.map((f) => [f.line, f.code])).toEqual([
      [31, 'CONFLICT'],
      [32, 'INVALID_LINE'],
      [34, 'INVALID_LINE'],
    ]);
    expect(r.stderr).toMatch(/^projects 34\/34 100% \| [\d.]+\/s \| ETA \w+ \| 3 failed$/m);
    const list = await runCli(['projects', 'list', '--org', fixture.orgId, '--limit', '100', '--json'], env);
    expect((JSON.parse(list.stdout) as { total: number }).total).toBe(31);
    expectNoKey(r.stdout, r.stderr);
  });

  it('--version prints the package version; the organization defaults to the only one the key reaches', async () => {
    const version = await runCli(['--version'], {});
    expect(version.code).toBe(0);
    expect(version.stdout).toBe(
      `${(JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8')) as { version: string }).version}\n`,
    );
    const one = await runCli(['projects', 'list', '--json'], env);
    expect(one.code).toBe(0);
    expect(JSON.parse(one.stdout)).toMatchObject({ total: expect.any(Number) });
    // A key reaching two organizations gets a usage error that lists both, never a guess.
    const wide = await fixture.call<{ key: string }>('keys.create', { name: 'two orgs', role: 'viewer' });
    const both = await runCli(['projects', 'list'], { ...env, CROWDEE_API_KEY: wide.key });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('pass --org ID');
    expect(both.stderr).toContain(fixture.orgId);
    expect(both.stderr).toContain(fixture.otherOrgId);
  });

  it('keys revoke-current needs --yes, then the key stops at once', async () => {
    const other = await seed(api, 'viewer');
    const e = { CROWDEE_API_KEY: other.key, CROWDEE_API_URL: api.server.url };
    expect((await runCli(['keys', 'revoke-current'], e)).code).toBe(2);
    const revoked = await runCli(['keys', 'revoke-current', '--yes'], e);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toMatch(/^Revoked cdk_/);
    const after = await runCli(['whoami'], e);
    expect(after.code).toBe(1);
    expect(after.stderr).toMatch(/401 KEY_REVOKED/);
    expect((await runCli(['status'], { CROWDEE_API_URL: api.server.url })).stdout).toMatch(
      /^ok — Crowdee API/,
    );
  });
});
