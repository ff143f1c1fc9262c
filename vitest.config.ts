import { defineConfig } from 'vitest/config';

/**
 * Three projects, run one after another (groupOrder):
 * - unit: files in parallel; they start no server process and share nothing.
 * - contract, then integration: one file at a time. They run real Nix on the one /nix/store,
 *   `nix copy` into caches, real redis-server, s3rver, container clients and daemons; files
 *   running at once would compete for the store's locks, the machine's cores and the
 *   clients' global state (podman, containerd), so they are kept sequential.
 */
export default defineConfig({
  test: {
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 300_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], fileParallelism: true, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'contract', include: ['test/contract/**/*.test.ts'], fileParallelism: false, sequence: { groupOrder: 1 } } },
      { extends: true, test: { name: 'integration', include: ['test/integration/**/*.test.ts'], fileParallelism: false, sequence: { groupOrder: 2 } } },
    ],
  },
});
