/**
 * One registry for the auth bench, in its own process so the load generator does not share its
 * event loop: the fake package source (no Nix), real bcrypt workers, an htpasswd file of cost
 * `BENCH_COST`. Prints `{"url": ...}` once listening; stops on SIGTERM.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { startRegistry } from '../../test/support/registry-server.js';
import { FakePackageSource } from '../../test/support/fake-source.js';

const cost = Number(process.env.BENCH_COST ?? 10);
const file = join(await mkdtemp(join(tmpdir(), 'stowage-bench-auth-')), 'htpasswd');
await writeFile(file, `bench:${bcrypt.hashSync('bench-password', cost)}\nother:${bcrypt.hashSync('other-password', cost)}\n`);
const registry = await startRegistry(
  { logLevel: 'error', auth: { htpasswdFile: file, anonymousPull: process.env.BENCH_ANONYMOUS_PULL !== 'false' } },
  { source: await FakePackageSource.create() },
);
process.stdout.write(`${JSON.stringify({ url: registry.url })}\n`);
process.once('SIGTERM', () => {
  void registry.close().then(() => process.exit(0));
});
