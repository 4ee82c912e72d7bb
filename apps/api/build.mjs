// Bundles the API into one ES module, with our workspace packages inlined (they ship TypeScript sources) and
// every npm dependency left external.
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const workspace = (name) => name.startsWith('@crowdee/');
const external = Object.keys(pkg.dependencies).filter((d) => !workspace(d));
const dbPkg = JSON.parse(readFileSync(new URL('../../packages/db/package.json', import.meta.url), 'utf8'));
external.push(...Object.keys(dbPkg.dependencies).filter((d) => !workspace(d)));

await build({
  // main.js is one API node; cluster.js is `pnpm cluster` (N nodes behind nginx); worker.js works verification runs.
  entryPoints: { main: 'src/main.ts', cluster: 'src/cluster/cluster-main.ts', worker: 'src/worker.ts' },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: true,
  external: [...new Set(external)],
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
  logLevel: 'warning',
});
