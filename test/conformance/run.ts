import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { formatResults, runConformance } from './suite.js';

/**
 * `npm run test:conformance -- --url http://HOST:PORT [--username U --password P] [--namespace N]`
 * Runs the distribution-spec checks against any registry and prints pass/fail per workflow.
 */
const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    username: { type: 'string' },
    password: { type: 'string' },
    namespace: { type: 'string' },
  },
});
if (!values.url) {
  process.stderr.write('usage: npm run test:conformance -- --url http://HOST:PORT [--username U --password P] [--namespace N]\n');
  process.exit(2);
}
const results = await runConformance({
  url: values.url,
  ...(values.username !== undefined ? { username: values.username, password: values.password ?? '' } : {}),
  namespace: values.namespace ?? `conformance/run-${randomBytes(4).toString('hex')}`,
});
process.stdout.write(`${formatResults(results)}\n`);
const failed = results.filter((result) => !result.ok).length;
process.stdout.write(`conformance: ${results.length - failed} passed, ${failed} failed\n`);
process.exit(failed === 0 ? 0 : 1);
