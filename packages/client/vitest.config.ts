import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The end-to-end tests run against the real API and PostgreSQL (embedded, or DATABASE_URL).
    globalSetup: ['../../packages/db/src/testing/global-setup.ts'],
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
  },
});
