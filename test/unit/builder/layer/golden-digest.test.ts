import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  writeStorePathLayer,
  writeSyntheticLayer,
  type LayerBlob,
  type LayerCompression,
} from '../../../../src/builder/layer/index.js';
import { LocalStoreReader } from '../../../../src/sources/local-store-reader.js';
import { MemoryBlobStore } from '../../../../src/storage/memory-blob-store.js';
import { FIXTURE, TOP_LAYER } from './golden-fixture.js';
import { makeStore, type TempStore } from './layer-test-support.js';

/**
 * Golden digests: these fail when anything that shapes a layer's bytes drifts — entry order,
 * modes, mtime, owners, header format, hard links, compression level or library output.
 * A change here changes every layer digest stowage has ever served, so update them only on
 * purpose, after checking the new bytes independently. These were checked with:
 *
 *   sha256sum layer.gz layer.zst                         → the digests
 *   gzip -dc layer.gz | sha256sum, zstd -dc layer.zst | sha256sum   → the same diffId
 *   gzip -dc layer.gz | tar -tv --full-time              → order, modes, 0/0, 1970-01-01 00:00:01
 *   zstd -dc layer.zst | zstd -3 --single-thread | sha256sum        → the zstd digest again
 *     (zstd CLI 1.5.4 reproduces zstd-napi's 1.5.7 bytes)
 *
 * The gzip digests come from Node's bundled (Chromium) zlib, whose deflate output differs from
 * stock zlib's: a Node upgrade that changes zlib will fail here, which is the point.
 */
const GOLDEN: Record<'store' | 'synthetic', Record<LayerCompression, Omit<LayerBlob, 'compression'>>> = {
  store: {
    gzip: {
      digest: 'sha256:4b5c22ad7e828c04bc2526bf26a99b1c462b922d59c3cbe21a021891fb2b92c8',
      diffId: 'sha256:c2c886e8108a8b06bfe0f5e748ab334ab926fc0cb6dc6c0a9334cdf96c542c50',
      size: 1126,
      uncompressedSize: 17920,
    },
    zstd: {
      digest: 'sha256:2500caa0831e360d889bbeaa62288673bcf2e9f93b53f38a22238606c46d2117',
      diffId: 'sha256:c2c886e8108a8b06bfe0f5e748ab334ab926fc0cb6dc6c0a9334cdf96c542c50',
      size: 987,
      uncompressedSize: 17920,
    },
  },
  synthetic: {
    gzip: {
      digest: 'sha256:78286f40723392352e0e53417bb35207e3749038926bbfe49420cd1d193df903',
      diffId: 'sha256:895d783d0f41cedacadf095e54c41f187f449cc1224465e6f5b068d8907e760d',
      size: 287,
      uncompressedSize: 5632,
    },
    zstd: {
      digest: 'sha256:9beb718ab159c6a914b7d928743642cab31765e645d002893595706ddfd9509c',
      diffId: 'sha256:895d783d0f41cedacadf095e54c41f187f449cc1224465e6f5b068d8907e760d',
      size: 270,
      uncompressedSize: 5632,
    },
  },
};

describe('golden layer digests', () => {
  let fake: TempStore;

  beforeAll(async () => {
    fake = await makeStore(FIXTURE);
  });
  afterAll(() => fake.cleanup());

  it.each<LayerCompression>(['gzip', 'zstd'])('store-path layer, %s at the default level', async (compression) => {
    const blob = await writeStorePathLayer({
      reader: new LocalStoreReader(fake.dir),
      storePaths: Object.keys(FIXTURE).map((name) => `/nix/store/${name}`),
      compression,
      store: new MemoryBlobStore(),
    });
    expect(blob).toEqual({ ...GOLDEN.store[compression], compression });
  });

  it.each<LayerCompression>(['gzip', 'zstd'])('synthetic top layer, %s at the default level', async (compression) => {
    const blob = await writeSyntheticLayer({ entries: TOP_LAYER, compression, store: new MemoryBlobStore() });
    expect(blob).toEqual({ ...GOLDEN.synthetic[compression], compression });
  });
});
