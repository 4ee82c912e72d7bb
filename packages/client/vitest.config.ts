import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The end-to-end tests run against the real API and PostgreSQL (embedded, or DATABASE_URL).
    globalSetup: ['../../packages/db/src/testing/global-setup.ts'],
    include: ['test/**/*.test.ts'],
    // A hang detector, not a speed limit: generous enough for a machine loaded by scripts/load.mjs.
    testTimeout: 300_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
  },
});
