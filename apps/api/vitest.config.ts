import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['../../packages/db/src/testing/global-setup.ts'],
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    // A hang detector, not a speed limit: generous enough for a machine loaded by scripts/load.mjs.
    testTimeout: 300_000,
    hookTimeout: 120_000,
    // Two cores: more parallel files only add contention for PostgreSQL and argon2.
    maxWorkers: 2,
  },
});
