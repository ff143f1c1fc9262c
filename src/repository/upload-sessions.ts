import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobInfo, BlobStore, MetadataStore } from '../storage/types.js';
import { KeyedMutex } from '../storage/keyed-mutex.js';
import { UploadIncompleteError, UploadRangeError, UploadUnknownError } from './errors.js';

/**
 * Blob uploads in progress (the spec's upload sessions). Chunks are appended to a staging file
 * under `dir`; the session record lives in the metadata store, so an upload survives a restart
 * (its offset is the staging file's size). Finishing streams the staged bytes into the blob
 * store, which commits only when the digest matches. A chunk that arrives short or out of
 * order is cut off again, so the staged bytes are always exactly what was acknowledged.
 *
 * The staging files are local to one replica: with several replicas, chunked uploads need
 * session affinity (monolithic uploads do not).
 */
export interface UploadSession {
  readonly id: string;
  readonly name: string;
  readonly size: number;
}

interface SessionRecord {
  readonly name: string;
  readonly createdAt: number;
}

const SESSIONS_KEY = 'uploads';
const sessionKey = (id: string) => `upload:${id}`;

export class UploadSessions {
  private readonly mutex = new KeyedMutex();

  constructor(
    private readonly dir: string,
    private readonly metadata: MetadataStore,
    private readonly blobs: BlobStore,
  ) {}

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  async create(name: string): Promise<UploadSession> {
    const id = randomUUID();
    await writeFile(this.file(id), '', { flag: 'wx' });
    await this.metadata.set(sessionKey(id), JSON.stringify({ name, createdAt: Date.now() } satisfies SessionRecord));
    await this.metadata.addToSet(SESSIONS_KEY, id);
    return { id, name, size: 0 };
  }

  /** @throws UploadUnknownError */
  async get(name: string, id: string): Promise<UploadSession> {
    if (!/^[0-9a-f-]{36}$/.test(id)) throw new UploadUnknownError(id);
    const raw = await this.metadata.get(sessionKey(id));
    const record = raw === null ? null : (JSON.parse(raw) as SessionRecord);
    if (record === null || record.name !== name) throw new UploadUnknownError(id);
    const info = await stat(this.file(id)).catch(() => null);
    if (info === null) throw new UploadUnknownError(id);
    return { id, name, size: info.size };
  }

  /**
   * Append a chunk. `range` (from Content-Range) must start at the current size; `length`
   * (from Content-Length) must match what arrives.
   * @throws UploadUnknownError, UploadRangeError, UploadIncompleteError
   */
  async append(name: string, id: string, body: Readable, range: { start: number; end: number } | null, length: number | null): Promise<UploadSession> {
    return this.mutex.run(id, async () => {
      const session = await this.get(name, id);
      if (range !== null && range.start !== session.size) {
        body.resume();
        throw new UploadRangeError(id, session.size);
      }
      let received = 0;
      body.on('data', (chunk: Buffer) => (received += chunk.length));
      try {
        await pipeline(body, createWriteStream(this.file(id), { flags: 'a' }));
        // Both headers, when sent, must agree with what arrived.
        for (const expected of [length, range === null ? null : range.end - range.start + 1]) {
          if (expected !== null && received !== expected) throw new UploadIncompleteError(expected, received);
        }
      } catch (error) {
        // Keep only what was acknowledged before this chunk.
        await truncate(this.file(id), session.size).catch(() => undefined);
        throw error;
      }
      return { ...session, size: session.size + received };
    });
  }

  /**
   * Append the final chunk (if any) and commit the upload as a blob with `digest`. The session
   * ends either way: a digest mismatch leaves nothing stored.
   * @throws UploadUnknownError, UploadIncompleteError, DigestMismatchError
   */
  async finish(name: string, id: string, digest: string, body: Readable | null, length: number | null): Promise<BlobInfo> {
    if (body !== null) await this.append(name, id, body, null, length);
    return this.mutex.run(id, async () => {
      await this.get(name, id);
      const writer = await this.blobs.writer();
      try {
        await pipeline(createReadStream(this.file(id)), writer.stream);
        return await writer.commit(digest);
      } catch (error) {
        await writer.abort();
        throw error;
      } finally {
        await this.remove(id);
      }
    });
  }

  /** @throws UploadUnknownError */
  async cancel(name: string, id: string): Promise<void> {
    await this.mutex.run(id, async () => {
      await this.get(name, id);
      await this.remove(id);
    });
  }

  /** End sessions older than `maxAgeMs` (abandoned uploads). @returns how many. */
  async expire(maxAgeMs: number, now = Date.now()): Promise<number> {
    let expired = 0;
    for (const id of await this.metadata.members(SESSIONS_KEY)) {
      const raw = await this.metadata.get(sessionKey(id));
      const record = raw === null ? null : (JSON.parse(raw) as SessionRecord);
      if (record === null || now - record.createdAt > maxAgeMs) {
        await this.mutex.run(id, () => this.remove(id));
        expired += 1;
      }
    }
    return expired;
  }

  private async remove(id: string): Promise<void> {
    await rm(this.file(id), { force: true });
    await this.metadata.delete(sessionKey(id));
    await this.metadata.removeFromSet(SESSIONS_KEY, id);
  }

  private file(id: string): string {
    return join(this.dir, id);
  }
}
