/**
 * A leaked key or session token must be findable by the tools people run. Six of each are planted where leaks
 * happen (generated now, never committed) and each of the three scanners must find all six: real gitleaks (v8.28, WebAssembly build from
 * npm) with the repository's .gitleaks.toml, real secretlint with this package's rule, and `crowdee scan`.
 * Look-alikes with a wrong checksum must give no finding from the two scanners that check it.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  generateKey,
  generateSessionBoundToken,
  KEY_PREFIX,
  keyChecksum,
  keyHint,
  randomBase62,
} from '@crowdee/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(PACKAGE_DIR, 'node_modules', '.bin');
const GITLEAKS_CONFIG = join(PACKAGE_DIR, '..', '..', '.gitleaks.toml');
const CROWDEE_CLI = join(PACKAGE_DIR, 'node_modules', '@crowdee', 'client', 'dist', 'cli.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: PACKAGE_DIR, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

/** The six places a key leaks from, each with its own key so every finding can be traced to its place. */
const PLACES: { file: string; content: (key: string) => string }[] = [
  { file: '.env', content: (k) => `NODE_ENV=production\nCROWDEE_API_KEY=${k}\n` },
  { file: 'src/config.js', content: (k) => `export const config = {};\nconst apiKey = "${k}";\n` },
  {
    file: 'docs/usage.md',
    content: (k) =>
      `# Usage\n\n\`\`\`sh\ncurl -H "Authorization: Bearer ${k}" https://api.example.com/api/v1/me\n\`\`\`\n`,
  },
  { file: 'settings.json', content: (k) => `{\n  "crowdee": { "apiKey": "${k}", "retries": 3 }\n}\n` },
  { file: 'key.txt', content: (k) => `${k}\n` },
  {
    file: 'logs/app.log',
    content: (k) =>
      `2026-12-02T02:00:00.000Z INFO request {"method":"GET","headers":{"authorization":"Bearer ${k}"},"status":200}\n`,
  },
];

function lookAlike(): string {
  const body = KEY_PREFIX + randomBase62(30);
  let checksum = randomBase62(6);
  while (checksum === keyChecksum(body)) checksum = randomBase62(6);
  return body + checksum;
}

let lookAlikes: string;
const results: Record<string, string> = {};

/** Both bearer secrets leak the same ways: API keys (`cdk_`) and session tokens (`cds_`, an hour at most). */
const KINDS = [
  { name: 'API key', generate: () => generateKey().key, gitleaksRule: 'crowdee-api-key', dir: '' },
  {
    name: 'session token',
    generate: () => generateSessionBoundToken().key,
    gitleaksRule: 'crowdee-session-token',
    dir: '',
  },
];
const keyByFile = new Map<string, Map<string, string>>();

beforeAll(() => {
  for (const kind of KINDS) {
    kind.dir = mkdtempSync(join(tmpdir(), 'crowdee-planted-'));
    const planted = new Map<string, string>();
    for (const place of PLACES) {
      const key = kind.generate();
      const path = join(kind.dir, place.file);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, place.content(key));
      planted.set(path, key);
    }
    keyByFile.set(kind.name, planted);
  }
  lookAlikes = mkdtempSync(join(tmpdir(), 'crowdee-lookalikes-'));
  writeFileSync(
    join(lookAlikes, 'lookalikes.env'),
    Array.from({ length: 2000 }, (_, i) => `KEY_${i}=${lookAlike()}`).join('\n'),
  );
});

afterAll(() => {
  for (const kind of KINDS) if (kind.dir) rmSync(kind.dir, { recursive: true, force: true });
  rmSync(lookAlikes, { recursive: true, force: true });
  console.info(`planted secrets found: ${JSON.stringify(results)}`);
});

it('gitleaks is the version the README documents', async () => {
  expect((await run(join(BIN, 'gitleaks'), ['version'])).stdout.trim()).toMatch(/^v8\.28\./);
});

for (const kind of KINDS) {
  describe(`a ${kind.name} planted in six places`, () => {
    const planted = () => keyByFile.get(kind.name) ?? new Map<string, string>();

    it(`gitleaks with .gitleaks.toml finds 6/6 through the ${kind.gitleaksRule} rule`, async () => {
      const report = join(kind.dir, '..', `${kind.dir.split('/').at(-1)}-gitleaks.json`);
      try {
        const r = await run(join(BIN, 'gitleaks'), [
          'dir',
          kind.dir,
          '--config',
          GITLEAKS_CONFIG,
          '--report-format',
          'json',
          '--report-path',
          report,
          '--no-banner',
          '--log-level',
          'warn',
        ]);
        expect(r.code, r.stderr).toBe(1); // gitleaks: 1 = leaks found
        const findings = JSON.parse(readFileSync(report, 'utf8')) as {
          RuleID: string;
          File: string;
          Secret: string;
        }[];
        const ours = findings.filter((f) => f.RuleID === kind.gitleaksRule);
        const found = new Map(ours.map((f) => [f.File, f.Secret]));
        results[`gitleaks ${kind.name}`] = `${found.size}/6`;
        expect(Object.fromEntries(found)).toEqual(Object.fromEntries(planted()));
      } finally {
        rmSync(report, { force: true });
      }
    });

    it('secretlint with @crowdee/secretlint-rule-crowdee finds 6/6, and 0 of 2,000 look-alikes', async () => {
      const config = JSON.stringify({ rules: [{ id: '@crowdee/secretlint-rule-crowdee' }] });
      const r = await run(join(BIN, 'secretlint'), [
        '--secretlintrcJSON',
        config,
        '--format',
        'json',
        `${kind.dir}/**/*`,
        `${lookAlikes}/**/*`,
      ]);
      expect(r.code, r.stderr).toBe(1);
      const files = JSON.parse(r.stdout) as {
        filePath: string;
        sourceContent: string;
        messages: { ruleId: string; message: string; range: [number, number] }[];
      }[];
      const found = new Map<string, string>();
      for (const file of files) {
        for (const m of file.messages.filter((m) => m.ruleId === '@crowdee/secretlint-rule-crowdee')) {
          expect(m.message).toContain(`found a Crowdee ${kind.name}`);
          found.set(file.filePath, file.sourceContent.slice(m.range[0], m.range[1]));
        }
      }
      results[`secretlint ${kind.name}`] = `${[...found.keys()].filter((f) => planted().has(f)).length}/6`;
      expect(Object.fromEntries(found)).toEqual(Object.fromEntries(planted()));
    });

    it('crowdee scan finds 6/6 with file:line, prints hints only, and 0 of 2,000 look-alikes', async () => {
      const r = await run(process.execPath, [CROWDEE_CLI, 'scan', kind.dir, lookAlikes, '--json']);
      expect(r.code, r.stderr).toBe(1);
      const out = JSON.parse(r.stdout) as { findings: { path: string; line: number; hint: string }[] };
      results[`crowdee scan ${kind.name}`] = `${new Set(out.findings.map((f) => f.path)).size}/6`;
      expect(Object.fromEntries(out.findings.map((f) => [f.path, f.hint]))).toEqual(
        Object.fromEntries([...planted()].map(([path, key]) => [path, keyHint(key)])),
      );
      expect(out.findings.map((f) => f.line).sort()).toEqual([1, 1, 2, 2, 2, 4]);
      for (const key of planted().values()) expect(r.stdout + r.stderr).not.toContain(key);
    });
  });
}

describe('the documented gitleaks rule', () => {
  it('is the rule in .gitleaks.toml, word for word', () => {
    const regexLines = (text: string) => text.split('\n').filter((line) => line.startsWith('regex = '));
    const readme = readFileSync(join(PACKAGE_DIR, '..', '..', 'README.md'), 'utf8');
    const config = readFileSync(GITLEAKS_CONFIG, 'utf8');
    expect(regexLines(config)).toEqual([expect.stringMatching(/cdk_/), expect.stringMatching(/cds_/)]);
    expect(regexLines(readme)).toEqual(regexLines(config));
  });
});
