import type { MetadataStore } from '../storage/types.js';
import { LruMap } from '../cache/lru-map.js';
import { MetadataKeys, parseRecord, type ImageRecord, type LayerRecord } from './records.js';
import { BuiltImageKeys } from '../storage/metadata-keys.js';
import { nameOfEntry } from './built-names-backfill.js';

/**
 * Expiry of built images nobody pulls any more. A pull of a built name by tag records when it
 * happened (`pulled:<name>`, epoch ms: no digest in it, so gc's mark ignores it), at most once
 * per `RECORD_INTERVAL_MS` per name and process. `stowage gc` then forgets the names not pulled
 * for `gc.imageRecordTtlMs`: their tag, manifest and blob sets, the image records and image
 * infos of their manifests, and the layer records only they used, so their blobs become
 * unreferenced and the sweep deletes them. A later pull simply builds the image again.
 */
export const RECORD_INTERVAL_MS = 60 * 60 * 1000;


/**
 * The builder remembers per process what it has recorded for a name; keying that memory by
 * this epoch makes it record again every interval, so a name expired by gc in another process
 * is recorded afresh on its next pull.
 */
export function recordingEpoch(now: number = Date.now()): number {
  return Math.floor(now / RECORD_INTERVAL_MS);
}

/** Records pulls cheaply: one metadata write per name per interval, whatever the pull rate. */
export class PullRecorder {
  private readonly written: LruMap<string, number>;

  constructor(
    private readonly metadata: MetadataStore,
    private readonly now: () => number = Date.now,
    maxNames = 10_000,
  ) {
    this.written = new LruMap(maxNames);
  }

  async record(canonicalName: string): Promise<void> {
    const now = this.now();
    const last = this.written.get(canonicalName);
    if (last !== undefined && now - last < RECORD_INTERVAL_MS) return;
    this.written.set(canonicalName, now);
    await this.metadata.set(BuiltImageKeys.pulled(canonicalName), String(now));
  }
}

export interface ExpiryOptions {
  readonly ttlMs: number;
  readonly now?: () => number;
  /** Report what would expire, change nothing. */
  readonly dryRun?: boolean;
  readonly signal?: AbortSignal;
}

export interface ExpiryReport {
  /** Canonical names forgotten (or that would be). */
  readonly expired: string[];
  /** Names seen for the first time without a pull time: their clock starts now. */
  readonly started: number;
}

const DIGEST = /sha256:[a-f0-9]{64}/g;

export async function expireImageRecords(metadata: MetadataStore, options: ExpiryOptions): Promise<ExpiryReport> {
  if (options.ttlMs <= 0) return { expired: [], started: 0 };
  if (!metadata.keys) throw new Error('the metadata store cannot list its keys');
  const now = (options.now ?? Date.now)();
  const keys: string[] = [];
  for await (const key of metadata.keys(options.signal)) keys.push(key);
  const names = keys.filter((key) => key.startsWith('tags:')).map((key) => key.slice('tags:'.length));

  const expired: string[] = [];
  let started = 0;
  for (const name of names) {
    const pulled = Number(await metadata.get(BuiltImageKeys.pulled(name)));
    if (!Number.isFinite(pulled) || pulled <= 0) {
      // Built before pulls were recorded: count from now rather than forget it at once.
      started += 1;
      if (!options.dryRun) await metadata.set(BuiltImageKeys.pulled(name), String(now));
    } else if (now - pulled >= options.ttlMs) expired.push(name);
  }
  if (expired.length === 0 || options.dryRun) return { expired, started };

  const expiredManifests = new Set<string>();
  for (const name of expired) for (const digest of await metadata.members(MetadataKeys.manifests(name))) expiredManifests.add(digest);
  const liveManifests = new Set<string>();
  for (const name of names) {
    if (expired.includes(name)) continue;
    for (const digest of await metadata.members(MetadataKeys.manifests(name))) liveManifests.add(digest);
  }
  const gone = (digest: string): boolean => expiredManifests.has(digest) && !liveManifests.has(digest);

  for (const name of expired) {
    for (const key of [MetadataKeys.tags(name), MetadataKeys.manifests(name), MetadataKeys.blobs(name), BuiltImageKeys.pulled(name)]) await metadata.delete(key);
    await metadata.removeFromSet(BuiltImageKeys.builtNames, name);
  }
  // Image records and infos of manifests no live name serves; the layers they used.
  const expiredLayers = new Set<string>();
  for (const key of keys) {
    if (key.startsWith('image:')) {
      const record = parseRecord<ImageRecord>(await metadata.get(key));
      if (record?.oci && gone(record.oci.digest)) {
        for (const layer of record.layers ?? []) expiredLayers.add(layer);
        await metadata.delete(key);
      }
    } else if (key.startsWith('image-info:') && gone(key.slice('image-info:'.length))) await metadata.delete(key);
    // An SBOM artifact names its subject, so it would keep the forgotten manifest alive.
    else if (key.startsWith('sbom:') && gone(key.slice('sbom:'.length))) await metadata.delete(key);
  }
  await forgetImageInfoMembers(metadata, keys, new Set(expired));

  // A layer record goes only when no record left names its layer (another image may share it).
  const stillNamed = new Set<string>();
  for (const key of keys) {
    if (key.startsWith('layer:') || key.startsWith('image-info:')) continue;
    const value = await metadata.get(key);
    for (const text of [value ?? '', ...(await metadata.members(key))]) for (const [digest] of text.matchAll(DIGEST)) stillNamed.add(digest);
  }
  for (const key of keys) {
    if (!key.startsWith('layer:')) continue;
    const record = parseRecord<LayerRecord>(await metadata.get(key));
    if (record && expiredLayers.has(record.digest) && !stillNamed.has(record.digest)) await metadata.delete(key);
  }
  return { expired, started };
}

/** The UI's lists of built images (`built-images`, `layer-images:*`) drop the expired names. */
async function forgetImageInfoMembers(metadata: MetadataStore, keys: readonly string[], expired: ReadonlySet<string>): Promise<void> {
  const sets = keys.filter((key) => key === BuiltImageKeys.builtImages || key.startsWith('layer-images:'));
  for (const key of sets) {
    for (const member of await metadata.members(key)) {
      const name = nameOfEntry(member);
      if (expired.has(name)) await metadata.removeFromSet(key, member);
    }
  }
}
