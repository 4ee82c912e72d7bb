/**
 * `@crowdee/client` as someone outside this repository gets it: packed with `pnpm pack` (which builds it), the
 * tarball installed with npm into a fresh project in a temp folder (dependencies from the registry or npm's
 * cache), then imported from an ES module, type-checked from TypeScript against its declarations, and its
 * `crowdee` bin run through `npx`. Nothing from this workspace is reachable from there.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_DIR } from '../e2e/helpers.ts';

const version = (JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8')) as { version: string })
  .version;
const pkg = JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
};
const work = mkdtempSync(join(tmpdir(), 'crowdee-pack-'));
const project = join(work, 'project');
let tarball = '';
let files: string[] = [];

/**
 * The environment of someone outside the repository: this process's, less what pnpm, npm scripts and vitest set
 * for the workspace (npm_config_*, npm_package_*, INIT_CWD, NODE_OPTIONS, …), so npm and npx find neither this
 * workspace's node_modules nor its pnpm settings. What the machine itself configures stays — above all its trusted
 * certificates (NODE_EXTRA_CA_CERTS, SSL_CERT_FILE) and proxy: with only PATH and HOME, npm behind a TLS-inspecting
 * proxy retried SELF_SIGNED_CERT_IN_CHAIN until the hook timed out, ten silent minutes in CI.
 */
const WORKSPACE_ENV = /^(npm_|pnpm_|PNPM_|INIT_CWD$|NODE_OPTIONS$|NODE_PATH$|VITEST|TURBO_|TEST$|COREPACK_)/i;
const outsideEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !WORKSPACE_ENV.test(key)),
) as NodeJS.ProcessEnv;
/** Each step's own limit, so a stalled registry fails with npm's words instead of a bare hook timeout. */
const STEP_TIMEOUT_MS = 240_000;

function run(command: string, args: string[], cwd: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { cwd, env: outsideEnv, maxBuffer: 16 * 1024 * 1024, timeout: STEP_TIMEOUT_MS, killSignal: 'SIGKILL' },
      (error, stdout, stderr) =>
        error
          ? reject(
              new Error(
                `${command} ${args.join(' ')}: ${error.killed ? `no answer within ${STEP_TIMEOUT_MS / 1000} s` : error.message}\n${stderr.slice(-4000)}`,
              ),
            )
          : resolve({ stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  const { stdout } = await run(
    'npx',
    ['-y', 'pnpm@12.4.2', 'pack', '--json', '--pack-destination', work],
    PACKAGE_DIR,
  );
  // pnpm prints the lifecycle scripts' output before the JSON.
  const packed = JSON.parse(stdout.slice(stdout.indexOf('{'))) as {
    filename: string;
    files: { path: string }[];
  };
  tarball = packed.filename;
  files = packed.files.map((f) => f.path);
  mkdirSync(project);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'outside', private: true, type: 'module' }),
  );
  // The versions TypeScript users of the package would have; the client's own dependencies come with it.
  await run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--fetch-retries=2',
      '--fetch-timeout=60000',
      '--loglevel=http',
      tarball,
      'typescript@5.9.3',
      '@types/node@22',
    ],
    project,
  );
  // Packing builds (esbuild and tsc) and npm installs: minutes on a loaded machine. A hang detector only.
}, 600_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('the packed @crowdee/client, installed outside the repository', () => {
  it('ships built JavaScript and declarations only, with our workspace packages bundled in', () => {
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/cli.js');
    expect(files).toContain('dist/types/index.d.ts');
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    const installed = join(project, 'node_modules', '@crowdee', 'client');
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(Object.keys(manifest.dependencies).filter((d) => d.startsWith('@crowdee/'))).toEqual([]);
    expect(Object.keys(manifest.dependencies).sort()).toEqual(Object.keys(pkg.dependencies).sort());
    for (const file of ['dist/index.js', 'dist/cli.js']) {
      expect(readFileSync(join(installed, file), 'utf8'), file).not.toMatch(/from\s*["']@crowdee\//);
    }
    expect(readFileSync(join(installed, 'dist/cli.js'), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(
      true,
    );
  });

  it('imports from an ES module and works', async () => {
    writeFileSync(
      join(project, 'use.mjs'),
      [
        "import { createClient, CrowdeeApiError, parseRetryAfter } from '@crowdee/client';",
        "const crowdee = createClient({ baseUrl: 'http://127.0.0.1:9' });",
        'console.log(JSON.stringify({ rest: typeof crowdee.rest.datasets.create, error: typeof CrowdeeApiError, wait: parseRetryAfter("2", 0) }));',
        'await crowdee.close();',
      ].join('\n'),
    );
    const { stdout } = await run(process.execPath, ['use.mjs'], project);
    expect(JSON.parse(stdout)).toEqual({ rest: 'function', error: 'function', wait: 2000 });
  });

  it('type-checks TypeScript against its declarations, which are real types (not any)', async () => {
    writeFileSync(
      join(project, 'use.ts'),
      [
        "import { createClient, type Dataset, type Me, type UploadSummary } from '@crowdee/client';",
        "const crowdee = createClient({ baseUrl: 'http://127.0.0.1:9' });",
        'export const me: Promise<Me> = crowdee.rest.me();',
        "export const dataset: Promise<Dataset> = crowdee.rest.datasets.create('org', 'project', { name: 'n' });",
        'export function created(summary: UploadSummary): number { return summary.created; }',
        '// @ts-expect-error a dataset has no such field: the declarations are precise',
        'export const nope = (d: Dataset) => d.nope;',
        '// @ts-expect-error the name must be a string',
        "crowdee.rest.datasets.create('org', 'project', { name: 1 });",
      ].join('\n'),
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          noEmit: true,
          // As `tsc --init` sets it: third-party declarations (@trpc/server's mention `ws`) are not ours to check.
          skipLibCheck: true,
          types: ['node'],
        },
        include: ['use.ts'],
      }),
    );
    await run(join(project, 'node_modules', '.bin', 'tsc'), ['-p', '.'], project);
  });

  it('runs the crowdee bin through npx', async () => {
    const { stdout } = await run('npx', ['--no-install', 'crowdee', '--version'], project);
    expect(stdout.trim()).toBe(version);
  });
});
