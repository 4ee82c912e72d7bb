import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real scanners in child processes (gitleaks runs as WebAssembly): slow on a loaded machine, never flaky.
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
