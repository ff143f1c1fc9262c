import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { TEST_PASSWORD, TEST_USER, writeHtpasswd } from '../support/htpasswd.js';
import { formatResults, runConformance } from '../conformance/suite.js';

/** The distribution-spec conformance suite against a real stowage server: every check passes. */
describe('OCI distribution conformance', () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ auth: { htpasswdFile: await writeHtpasswd() } });
  });
  afterAll(async () => {
    await registry?.close();
  });

  it('passes every check of the four workflows', async () => {
    const results = await runConformance({ url: registry.url, username: TEST_USER, password: TEST_PASSWORD, namespace: 'conformance/app' });
    process.stdout.write(`${formatResults(results)}\n`);
    expect(results.filter((result) => !result.ok)).toEqual([]);
    expect(new Set(results.map((result) => result.workflow)).size).toBe(4);
    expect(results.length).toBeGreaterThanOrEqual(25);
  });
});
