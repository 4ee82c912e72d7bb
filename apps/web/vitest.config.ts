import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['../../packages/db/src/testing/global-setup.ts', './test/setup/build-web.global-setup.ts'],
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Each file drives its own Chromium against its own API server; on two cores, one at a time is faster.
    fileParallelism: false,
  },
});
