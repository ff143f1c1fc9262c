/**
 * s3rver in its own process for the serve benchmark, so the S3 server does not share an event
 * loop with the load generator. Prints `{"endpoint":...,"bucket":...}` once listening and runs
 * until SIGTERM.
 */
import { startS3Server } from '../../test/support/s3-server.js';

const server = await startS3Server({ bucket: 'stowage-bench' });
process.stdout.write(`${JSON.stringify({ endpoint: server.endpoint, bucket: server.bucket, env: server.env })}\n`);
process.once('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
