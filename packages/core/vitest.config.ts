import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // A hang detector, not a speed limit: property tests and the 100,000-string scan must pass on a machine
    // loaded by scripts/load.mjs, where vitest's default 5 s is too little.
    testTimeout: 300_000,
  },
});
