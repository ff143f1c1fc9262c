import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BuildTracker } from '../../../src/builder/build-tracker.js';
import { SystemProgress } from '../../../src/builder/build-progress.js';
import { platformOfSystem } from '../../../src/builder/platform.js';
import { buildSystemImage } from '../../../src/builder/system-image-build.js';
import { DeflateWorkers } from '../../../src/builder/layer/index.js';
import { parseImageName, requestFor } from '../../../src/image-name/image-name.js';
import { StowageLayerer, closurePopularity } from '../../../src/layering/index.js';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.js';
import { MemoryLockManager } from '../../../src/storage/memory-lock-manager.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import type { BlobWriter } from '../../../src/storage/types.js';
import { FakePackageSource } from '../../support/fake-source.js';

/**
 * Counts blob writers open at once: a layer holds one from its first byte to its commit. The
 * first writer waits (up to a few seconds, so a serial build fails instead of hanging) until
 * `expected` are open, so that overlap does not depend on how fast the first layer is.
 */
class OverlapCountingStore extends MemoryBlobStore {
  openWriters = 0;
  peak = 0;
  private waiting: Array<() => void> = [];

  constructor(private readonly expected: number) {
    super();
  }

  override async writer(): Promise<BlobWriter> {
    const inner = await super.writer();
    this.openWriters += 1;
    this.peak = Math.max(this.peak, this.openWriters);
    if (this.openWriters >= this.expected) for (const release of this.waiting.splice(0)) release();
    else if (this.peak < this.expected) await new Promise<void>((resolve) => {
      this.waiting.push(resolve);
      setTimeout(resolve, 3000).unref();
    });
    let closed = false;
    const close = (): void => {
      if (!closed) this.openWriters -= 1;
      closed = true;
    };
    return {
      stream: inner.stream,
      get size() {
        return inner.size;
      },
      commit: async (expectedDigest?: string) => {
        try {
          return await inner.commit(expectedDigest);
        } finally {
          close();
        }
      },
      abort: async () => {
        close();
        await inner.abort();
      },
    };
  }
}

describe('buildSystemImage layers', () => {
  let source: FakePackageSource;
  const compressors = new DeflateWorkers(2);

  beforeAll(async () => {
    source = await FakePackageSource.create();
  });
  afterAll(() => undefined);

  async function build(layerParallelism: number) {
    const blobs = new OverlapCountingStore(layerParallelism);
    const image = parseImageName('tool/extra', 'latest', { maxPackages: 10, shellPackages: ['minishell'], systems: ['x86_64-linux'], compression: 'gzip' });
    const request = requestFor(image, 'x86_64-linux');
    const platform = platformOfSystem('x86_64-linux');
    if (platform === null) throw new Error('no platform');
    const layerEvents: boolean[] = [];
    const deps = {
      source,
      layerer: new StowageLayerer(),
      popularity: closurePopularity,
      blobs,
      logger: pino({ level: 'silent' }),
      metadata: new MemoryMetadataStore(),
      locks: new MemoryLockManager(),
      lockTtlMs: 60_000,
      gzipCompressors: compressors,
      observer: { layer: ({ built }: { built: boolean }) => layerEvents.push(built) },
    };
    const progress = new SystemProgress(new BuildTracker(), image.canonicalName, 'latest', 'x86_64-linux');
    const record = await buildSystemImage(
      deps,
      { maxLayers: 100, levels: { gzip: 6, zstd: 3 }, layerParallelism },
      { image, request, platform, sourceKey: null, progress },
      AbortSignal.timeout(60_000),
    );
    return { record, peak: blobs.peak, layerEvents };
  }

  it('builds layers side by side, at most layerParallelism at once, with the same image at any parallelism', async () => {
    const serial = await build(1);
    const parallel = await build(3);
    // lib, tool and extra each get a layer, then the top layer.
    expect(serial.record.layers).toHaveLength(4);
    expect(serial.layerEvents).toEqual([true, true, true, true]);
    expect(serial.peak).toBe(1);
    expect(parallel.peak).toBe(3);
    expect(parallel.record.layers).toEqual(serial.record.layers);
    expect(parallel.record.oci.digest).toBe(serial.record.oci.digest);
    expect(parallel.record.config.digest).toBe(serial.record.config.digest);
  });
});
