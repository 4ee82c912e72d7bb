/**
 * The browser tests drive the built app as production serves it (from the API's origin, under its CSP), so
 * `pnpm test` works from a clean clone: build `dist/` when it is missing or older than anything it is built from.
 * Turbo's `test` task already depends on `build`; then this is a quick up-to-date check.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { coreSourceDir, webDist, webRoot } from '../helpers/paths.ts';

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

export function setup(): void {
  const builtAt = newestMtime(join(webDist, 'index.html'));
  const inputs = ['src', 'public', 'index.html', 'vite.config.ts', 'package.json'].map((p) =>
    join(webRoot, p),
  );
  const sourcesAt = Math.max(...[...inputs, coreSourceDir].map(newestMtime));
  if (builtAt >= sourcesAt) {
    console.info('[web] dist/ is up to date');
    return;
  }
  console.info('[web] building the settings app: dist/ is missing or older than its sources');
  const vite = join(dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin/vite.js');
  // A child process with NODE_ENV=production: inside vitest NODE_ENV is "test", which would bundle React's
  // development build into dist/ (and production would then serve it).
  execFileSync(process.execPath, [vite, 'build', '--logLevel', 'warn'], {
    cwd: webRoot,
    env: { ...process.env, NODE_ENV: 'production' },
    stdio: 'inherit',
  });
}
