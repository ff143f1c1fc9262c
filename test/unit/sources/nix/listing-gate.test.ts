import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NixPackageSource } from '../../../../src/sources/nix/nix-package-source.js';
import type { PackageSetAt, PackageSetRevisions } from '../../../../src/sources/nix/package-set-revisions.js';
import { LocalStoreReader } from '../../../../src/sources/local-store-reader.js';
import { SourceBusyError } from '../../../../src/sources/errors.js';
import { EvaluationGate } from '../../../../src/sources/nix/evaluation-gate.js';
import { mapError } from '../../../../src/registry/error-mapping.js';

/** Every tag its own package set (as each commit of a git package set is). */
const everyTagItsOwnSet: PackageSetRevisions = {
  revisions: async () => ['latest'],
  key: async (revision) => revision,
  locate: async (revision): Promise<PackageSetAt> => ({ path: `/sets/${revision}`, key: revision }),
  fingerprint: async (path) => path,
};

/**
 * The web UI's package search evaluates the package set at the tag it names (`?tag=`), outside
 * the build queue. With a git package set every commit is a tag, so a client asking for many
 * started as many evaluations at once (each minutes and gigabytes with nixpkgs): they are bounded.
 */
describe('package-set listings are bounded in number at once', () => {
  let bin: string;
  beforeEach(async () => {
    bin = await mkdtemp(join(tmpdir(), 'stowage-fake-nix-'));
    // A listing that takes a while and lists nothing.
    await writeFile(join(bin, 'nix-instantiate'), '#!/bin/sh\nsleep 0.2\necho "[]"\n');
    await chmod(join(bin, 'nix-instantiate'), 0o755);
  });
  afterEach(async () => {
    await rm(bin, { recursive: true, force: true });
  });

  it('runs two, lets eight wait, and refuses the rest with 429', async () => {
    const source = new NixPackageSource({ packageSets: everyTagItsOwnSet, nixBinDir: bin, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, timeoutMs: 30_000, reader: new LocalStoreReader(bin) });
    const signal = new AbortController().signal;
    const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => source.listPackages({ revision: `r${i}`, system: 'x86_64-linux' }, { signal })));
    const refused = results.filter((result) => result.status === 'rejected');
    expect(refused).toHaveLength(2);
    for (const result of refused) expect((result as PromiseRejectedResult).reason).toBeInstanceOf(SourceBusyError);
    expect(results.filter((result) => result.status === 'fulfilled' && Array.isArray(result.value) && result.value.length === 0)).toHaveLength(10);

    const answer = mapError((refused[0] as PromiseRejectedResult).reason);
    expect(answer.status).toBe(429);
    expect(answer.body.errors[0]?.code).toBe('TOOMANYREQUESTS');
    expect(answer.headers['retry-after']).toBe('30');
  });
});

describe('EvaluationGate', () => {
  it('gives the place of a waiter that gives up to the next one', async () => {
    const gate = new EvaluationGate(1, 1);
    let release = (): void => undefined;
    const first = gate.run(() => new Promise<string>((resolve) => (release = () => resolve('first'))), new AbortController().signal);
    const leaving = new AbortController();
    const second = gate.run(async () => 'second', leaving.signal);
    await expect(gate.run(async () => 'third', new AbortController().signal)).rejects.toBeInstanceOf(SourceBusyError);
    leaving.abort(new Error('gone'));
    await expect(second).rejects.toThrow('gone');
    const fourth = gate.run(async () => 'fourth', new AbortController().signal);
    release();
    expect(await Promise.all([first, fourth])).toEqual(['first', 'fourth']);
  });
});
