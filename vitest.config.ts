import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 300_000,
    // Integration tests share /nix/store and the loopback ports; keep files sequential there.
    fileParallelism: true,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
