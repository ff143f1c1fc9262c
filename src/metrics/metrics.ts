import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Counter, Gauge, Histogram, collectDefaultMetrics, type Registry } from 'prom-client';
import type { BuildObserver } from '../builder/image-builder.js';
import type { BuildTracker } from '../builder/build-tracker.js';

/**
 * Stowage's Prometheus metrics, all prefixed `stowage_`, registered in a registry the caller
 * owns (one per app, so tests can build several apps without clashing in prom-client's global
 * registry). Process metrics (CPU, memory, event loop lag) are prom-client's defaults under
 * their standard names (`process_*`, `nodejs_*`), which stock Node.js dashboards expect.
 */
export interface StowageMetrics {
  readonly registry: Registry;
  /** Finished image builds (one per system) by result: `done` or `failed`. */
  readonly builds: Counter<'result'>;
  readonly buildDuration: Histogram<'result'>;
  /** Image and layer cache lookups during builds, by result: `hit` or `miss`. */
  readonly imageCache: Counter<'result'>;
  readonly layerCache: Counter<'result'>;
  /** Compressed bytes of layers built (cache misses). */
  readonly layerBytesBuilt: Counter;
  /** Response bytes of blobs and manifests sent to clients, by kind. */
  readonly servedBytes: Counter<'kind'>;
  readonly httpRequests: Counter<'route' | 'method' | 'status'>;
  readonly httpDuration: Histogram<'route' | 'method'>;
}

export interface BuildQueueStats {
  readonly running: number;
  readonly queued: number;
}

export function createMetrics(registry: Registry, queue: () => BuildQueueStats): StowageMetrics {
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'stowage_build_info',
    help: 'Always 1; the labels say which stowage and Node.js versions run',
    labelNames: ['version', 'node'],
    registers,
  }).set({ version: stowageVersion(), node: process.version }, 1);
  new Gauge({
    name: 'stowage_builds_in_flight',
    help: 'Image builds running now',
    registers,
    collect() {
      this.set(queue().running);
    },
  });
  new Gauge({
    name: 'stowage_builds_queued',
    help: 'Image builds waiting for a build slot',
    registers,
    collect() {
      this.set(queue().queued);
    },
  });
  return {
    registry,
    builds: new Counter({ name: 'stowage_builds_total', help: 'Finished image builds by result (done, failed)', labelNames: ['result'], registers }),
    buildDuration: new Histogram({
      name: 'stowage_build_duration_seconds',
      help: 'Duration of image builds, from queued to done or failed',
      labelNames: ['result'],
      buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 900],
      registers,
    }),
    imageCache: new Counter({ name: 'stowage_image_cache_requests_total', help: 'Image cache lookups by result (hit, miss)', labelNames: ['result'], registers }),
    layerCache: new Counter({ name: 'stowage_layer_cache_requests_total', help: 'Layer cache lookups during builds by result (hit, miss)', labelNames: ['result'], registers }),
    layerBytesBuilt: new Counter({ name: 'stowage_layer_built_bytes_total', help: 'Compressed bytes of the layers built', registers }),
    servedBytes: new Counter({ name: 'stowage_served_bytes_total', help: 'Bytes of blobs and manifests sent to clients, by kind (blob, manifest)', labelNames: ['kind'], registers }),
    httpRequests: new Counter({ name: 'stowage_http_requests_total', help: 'HTTP requests by route, method and status', labelNames: ['route', 'method', 'status'], registers }),
    httpDuration: new Histogram({
      name: 'stowage_http_request_duration_seconds',
      help: 'HTTP response time by route and method (to the end of the response)',
      labelNames: ['route', 'method'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60],
      registers,
    }),
  };
}

/** The builder's hooks feeding the cache metrics. */
export function buildObserver(metrics: StowageMetrics): BuildObserver {
  return {
    image: ({ built }) => metrics.imageCache.inc({ result: built ? 'miss' : 'hit' }),
    layer: ({ built, size }) => {
      metrics.layerCache.inc({ result: built ? 'miss' : 'hit' });
      if (built) metrics.layerBytesBuilt.inc(size);
    },
  };
}

/** Count builds as the tracker sees them finish; returns the function that stops it. */
export function observeBuilds(metrics: StowageMetrics, tracker: BuildTracker): () => void {
  return tracker.subscribe((status) => {
    if (status.phase !== 'done' && status.phase !== 'failed') return;
    const seconds = (status.durationMs ?? Date.now() - Date.parse(status.startedAt)) / 1000;
    metrics.builds.inc({ result: status.phase });
    metrics.buildDuration.observe({ result: status.phase }, seconds);
  });
}

/**
 * The version in stowage's package.json, found at the package root: two levels above this file
 * under `src/metrics/` (tsx, tests), three under `dist/src/metrics/`.
 */
export function stowageVersion(): string {
  for (const up of ['../..', '../../..']) {
    try {
      const manifest = JSON.parse(readFileSync(resolve(import.meta.dirname, up, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (manifest.name === 'stowage' && typeof manifest.version === 'string') return manifest.version;
    } catch {
      // Not at this level; try the next.
    }
  }
  return 'unknown';
}
