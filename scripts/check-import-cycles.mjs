#!/usr/bin/env node
// Fails when the repository's import graph has a cycle, type-only imports included: a cycle through `import type`
// costs nothing at run time but still ties two modules' designs together (and makes declaration emit order-
// dependent). Part of `pnpm lint`, so CI runs it.
//
// Uses the TypeScript compiler API (already a dependency) rather than a graph tool: the lexical pre-processor sees
// `import type`, `export … from`, `import()` and `import('…').T`, and `resolveModuleName` resolves exactly as tsc does
// (package `exports`, workspace symlinks, `.ts` extensions). Every .ts/.tsx file git tracks or would track (not ignored) is a node; imports that
// resolve into node_modules are leaves and left out.
//
// `node scripts/check-import-cycles.mjs [dir]` checks the files under dir that git does not ignore (default: the repository).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const ts = createRequire(import.meta.url)('typescript');
const dir = resolve(process.argv[2] ?? root);

const files = execFileSync(
  'git',
  ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', '*.ts', '*.tsx', '*.mts', '*.cts'],
  {
    cwd: dir,
    encoding: 'utf8',
  },
)
  .split('\0')
  .filter((f) => f && !f.endsWith('.d.ts'))
  .map((f) => resolve(dir, f))
  // Tracked but deleted in the working tree (a move not yet committed): not part of the graph any more.
  .filter((f) => existsSync(f))
  .map((f) => realpathSync(f));
const nodes = new Set(files);

// The flags every tsconfig shares (tsconfig.base.json): resolution is the same in every package.
const options = {
  module: ts.ModuleKind.Preserve,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  allowImportingTsExtensions: true,
  resolveJsonModule: true,
  noEmit: true,
};
const host = { ...ts.sys, realpath: realpathSync };

/** @type {Map<string, string[]>} */
const edges = new Map();
for (const file of files) {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  const targets = new Set();
  for (const { fileName } of importedFiles) {
    const resolved = ts.resolveModuleName(fileName, file, options, host).resolvedModule;
    if (!resolved || resolved.isExternalLibraryImport) continue;
    const target = realpathSync(resolved.resolvedFileName);
    if (nodes.has(target) && target !== file) targets.add(target);
  }
  edges.set(file, [...targets]);
}

// Tarjan's strongly connected components, iteratively (the graph is a few hundred files, but stay off the stack).
let index = 0;
const indexOf = new Map();
const lowOf = new Map();
const stack = [];
const onStack = new Set();
const components = [];
for (const start of files) {
  if (indexOf.has(start)) continue;
  const work = [{ node: start, next: 0 }];
  indexOf.set(start, index);
  lowOf.set(start, index++);
  stack.push(start);
  onStack.add(start);
  while (work.length > 0) {
    const frame = work[work.length - 1];
    const out = edges.get(frame.node) ?? [];
    if (frame.next < out.length) {
      const target = out[frame.next++];
      if (!indexOf.has(target)) {
        indexOf.set(target, index);
        lowOf.set(target, index++);
        stack.push(target);
        onStack.add(target);
        work.push({ node: target, next: 0 });
      } else if (onStack.has(target)) {
        lowOf.set(frame.node, Math.min(lowOf.get(frame.node), indexOf.get(target)));
      }
      continue;
    }
    work.pop();
    const parent = work[work.length - 1];
    if (parent) lowOf.set(parent.node, Math.min(lowOf.get(parent.node), lowOf.get(frame.node)));
    if (lowOf.get(frame.node) === indexOf.get(frame.node)) {
      const component = [];
      let member;
      do {
        member = stack.pop();
        onStack.delete(member);
        component.push(member);
      } while (member !== frame.node);
      if (component.length > 1) components.push(component);
    }
  }
}

/** One concrete cycle inside a component, for the message: a shortest path from its first member back to it. */
function cycleIn(component) {
  const members = new Set(component);
  const first = component[0];
  const previous = new Map([[first, null]]);
  const queue = [first];
  while (queue.length > 0) {
    const node = queue.shift();
    for (const target of edges.get(node) ?? []) {
      if (!members.has(target)) continue;
      if (target === first) {
        const path = [first];
        for (let at = node; at !== first; at = previous.get(at)) path.splice(1, 0, at);
        return [...path, first];
      }
      if (!previous.has(target)) {
        previous.set(target, node);
        queue.push(target);
      }
    }
  }
  return component;
}

const edgeCount = [...edges.values()].reduce((sum, out) => sum + out.length, 0);
if (components.length === 0) {
  console.log(`import cycles: none (${files.length} files, ${edgeCount} imports, type-only included)`);
} else {
  console.error(`import cycles: ${components.length} (type-only imports count too)`);
  for (const component of components) {
    const shown = cycleIn(component).map((f) => relative(root, f));
    console.error(`- ${component.length} files, e.g. ${shown.join(' → ')}`);
  }
  process.exitCode = 1;
}
