// Bundles the rule into one ES module: secretlint loads rules as plain JavaScript packages, so our TypeScript core
// (the key format and its checksum) is inlined rather than imported at run time.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/index.ts'],
  outfile: 'dist/index.js',
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  sourcemap: true,
  logLevel: 'warning',
});
