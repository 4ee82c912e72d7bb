// Builds what `@crowdee/client` ships: `dist/index.js` (the library) and `dist/cli.js` (the `crowdee` bin), each
// one ES module. Our workspace packages (`@crowdee/core`, TypeScript sources, private) are bundled in, so one
// tarball installs on its own; npm dependencies stay external and are installed with the package.
// `--types-only` finishes the declarations `tsc -p tsconfig.build.json` wrote to dist/types (see app-router.ts).
import { chmodSync, copyFileSync, readFileSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

if (process.argv.includes('--types-only')) {
  // The router's real type is made of the API's sources, which the package cannot carry.
  copyFileSync('app-router.published.d.ts', 'dist/types/app-router.d.ts');
  rmSync('dist/types/tsconfig.build.tsbuildinfo', { force: true });
  process.exit(0);
}

const external = Object.keys(pkg.dependencies).filter((d) => !d.startsWith('@crowdee/'));
const common = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  external,
  logLevel: 'warning',
};
// Some dependencies are CommonJS and call require(): give the ES module one.
const requireShim =
  "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);";

await Promise.all([
  build({ ...common, entryPoints: ['src/index.ts'], outfile: 'dist/index.js', banner: { js: requireShim } }),
  build({
    ...common,
    entryPoints: ['src/cli.ts'],
    outfile: 'dist/cli.js',
    banner: { js: `#!/usr/bin/env node\n${requireShim}` },
  }),
]);
chmodSync('dist/cli.js', 0o755);
