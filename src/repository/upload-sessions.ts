import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { fsyncPath } from '../storage/blob-io.js';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobInfo, BlobStore, BlobWriter, MetadataStore } from '../storage/types.js';
import { KeyedMutex } from '../storage/keyed-mutex.js';
import { UploadKeys } from '../storage/metadata-keys.js';
import { UploadIncompleteError, UploadLimitError, UploadRangeError, UploadUnknownError } from './errors.js';
import { StorageUnavailableError } from '../storage/errors.js';

/**
 * Blob uploads in progress (the spec's upload sessions). Chunks are appended to a staging file
 * under `dir`; the session record lives in the metadata store, so an upload survives a restart.
 * A chunk is acknowledged only once durable: its bytes are fsynced, then the record's `size`
 * is advanced. The offset is the smaller of the record's size and the file's, so bytes of a
 * chunk that a killed process never acknowledged do not count, and `init` cuts them off.
 * Finishing streams the staged bytes into the blob store, which commits only when the digest
 * matches. A chunk that arrives short or out of order is cut off again, so the staged bytes
 * are always exactly what was acknowledged.
 *
 * The staging files are local to one replica: with several replicas, chunked uploads need
 * session affinity (monolithic uploads do not).
 *
 * At most `maxSessions` are open: past it, `create` refuses. The count is the one the last
 * expiry sweep saw, plus the sessions this process opened since, minus those it ended, so it
 * costs nothing per request; with several replicas sharing the metadata, each holds the
 * bound between its sweeps, so the total stays within replicas × `maxSessions`. One owner (the
 * user who started them) holds at most `maxPerOwner` of them, counted the same way, so one
 * pusher looping on POST cannot take every session from the others.
 */
export const DEFAULT_MAX_UPLOAD_SESSIONS = 10_000;

export interface UploadSession {
  readonly id: string;
  readonly name: string;
  readonly size: number;
}

interface SessionRecord {
  readonly name: string;
  /** Who started it (a user; '' when unknown); absent in older records. */
  readonly owner?: string;
  readonly createdAt: number;
  /** When the last chunk was acknowledged; absent until one is (and in older records). */
  readonly touchedAt?: number;
  /** Bytes acknowledged (durable); absent in records written before it was kept. */
  readonly size?: number;
}

const SESSIONS_KEY = UploadKeys.sessions;
const sessionKey = UploadKeys.session;
const SESSION_ID = /^[0-9a-f-]{36}$/;

export class UploadSessions {
  private readonly mutex = new KeyedMutex();
  /** Sessions open, as counted above, in all and per owner. */
  private open = 0;
  private readonly openBy = new Map<string, number>();

  constructor(
    private readonly dir: string,
    private readonly metadata: MetadataStore,
    private readonly blobs: BlobStore,
    /** Milliseconds since the epoch; injected by tests. */
    private readonly clock: () => number = Date.now,
    private readonly maxSessions: number = DEFAULT_MAX_UPLOAD_SESSIONS,
    private readonly maxPerOwner: number = maxSessions,
  ) {}

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  /**
   * Put the staging files a previous process left in line with their sessions, at startup:
   * files of unknown (ended, expired) sessions are removed, and bytes past a session's
   * acknowledged size are cut off. Each file is handled under its session's lock, and a
   * session's record is written before its file, so this may run while requests arrive.
   * @returns staging files removed and truncated.
   */
  async recover(): Promise<{ removed: number; truncated: number }> {
    let removed = 0;
    let truncated = 0;
    for (const id of await readdir(this.dir)) {
      await this.mutex.run(id, async () => {
        const record = SESSION_ID.test(id) ? await this.record(id) : null;
        if (record === null) {
          await rm(this.file(id), { recursive: true, force: true });
          removed += 1;
          return;
        }
        const info = await stat(this.file(id)).catch(() => null);
        if (info !== null && record.size !== undefined && info.size > record.size) {
          await truncate(this.file(id), record.size);
          truncated += 1;
        }
      });
    }
    return { removed, truncated };
  }

  /** @throws UploadLimitError when `maxSessions` are open, or `maxPerOwner` of `owner`'s. */
  async create(name: string, owner = ''): Promise<UploadSession> {
    if (this.open >= this.maxSessions) throw new UploadLimitError(this.maxSessions);
    if ((this.openBy.get(owner) ?? 0) >= this.maxPerOwner) throw new UploadLimitError(this.maxPerOwner, owner);
    this.count(owner, 1);
    const id = randomUUID();
    try {
      // The record first: a staging file without one is taken for an ended session's by `recover`.
      await this.metadata.set(sessionKey(id), JSON.stringify({ name, owner, createdAt: this.clock(), size: 0 } satisfies SessionRecord));
      await writeFile(this.file(id), '', { flag: 'wx' });
      await this.metadata.addToSet(SESSIONS_KEY, id);
    } catch (error) {
      this.count(owner, -1);
      throw error;
    }
    return { id, name, size: 0 };
  }

  /** @throws UploadUnknownError, also when `owner` did not start it */
  async get(name: string, id: string, owner: string): Promise<UploadSession> {
    return (await this.getWithRecord(name, id, owner)).session;
  }

  /**
   * Append a chunk. `range` (from Content-Range) must start at the current size; `length`
   * (from Content-Length) must match what arrives.
   * @throws UploadUnknownError, UploadRangeError, UploadIncompleteError
   */
  async append(name: string, id: string, owner: string, body: Readable, range: { start: number; end: number } | null, length: number | null): Promise<UploadSession> {
    return (await this.appendChunk(name, id, owner, body, range, length)).session;
  }

  /** `append`, also saying the size before the chunk (read under the same lock). */
  private appendChunk(
    name: string,
    id: string,
    owner: string,
    body: Readable,
    range: { start: number; end: number } | null,
    length: number | null,
  ): Promise<{ session: UploadSession; before: number }> {
    return this.mutex.run(id, async () => {
      const { session, record } = await this.getWithRecord(name, id, owner).catch((error: unknown) => {
        body.resume();
        throw error;
      });
      if (range !== null && range.start !== session.size) {
        body.resume();
        throw new UploadRangeError(id, session.size);
      }
      // Appending starts right after the acknowledged bytes, whatever else the file holds.
      await truncate(this.file(id), session.size);
      // Counting puts the body in flowing mode: from here on, nothing may await before the pipe.
      let received = 0;
      body.on('data', (chunk: Buffer) => (received += chunk.length));
      try {
        await pipeline(body, createWriteStream(this.file(id), { flags: 'a' }));
        // Both headers, when sent, must agree with what arrived.
        for (const expected of [length, range === null ? null : range.end - range.start + 1]) {
          if (expected !== null && received !== expected) throw new UploadIncompleteError(expected, received);
        }
        // Durable before acknowledged: the bytes, then the offset that counts them.
        await fsyncPath(this.file(id));
      } catch (error) {
        // Keep only what was acknowledged before this chunk.
        await truncate(this.file(id), session.size).catch(() => undefined);
        throw error;
      }
      const size = session.size + received;
      await this.metadata.set(sessionKey(id), JSON.stringify({ ...record, size, touchedAt: this.clock() } satisfies SessionRecord));
      return { session: { ...session, size }, before: session.size };
    });
  }

  /**
   * Append the final chunk (if any) and commit the upload as a blob with `digest`. The session
   * ends either way (a digest mismatch leaves nothing stored), except when the blob store is
   * unavailable: then it stays, acknowledged bytes and all, for the PUT to be sent again.
   * @throws UploadUnknownError, UploadIncompleteError, DigestMismatchError
   */
  async finish(name: string, id: string, owner: string, digest: string, body: Readable | null, length: number | null): Promise<BlobInfo> {
    const before = body === null ? null : (await this.appendChunk(name, id, owner, body, null, length)).before;
    return this.mutex.run(id, async () => {
      const { session, record } = await this.getWithRecord(name, id, owner);
      const size = session.size;
      let unavailable = false;
      let writer: BlobWriter | undefined;
      try {
        writer = await this.blobs.writer();
        // Only the acknowledged bytes, even if the file holds more.
        await pipeline(size === 0 ? Readable.from([]) : createReadStream(this.file(id), { end: size - 1 }), writer.stream);
        return await writer.commit(digest);
      } catch (error) {
        await writer?.abort();
        // The answer (503) invites the client to send the PUT again: keep what it uploaded.
        unavailable = error instanceof StorageUnavailableError;
        // The final chunk this PUT carried is taken back: the PUT sent again brings it again.
        if (unavailable && before !== null) {
          await truncate(this.file(id), before);
          await this.metadata.set(sessionKey(id), JSON.stringify({ ...record, size: before } satisfies SessionRecord));
        }
        throw error;
      } finally {
        if (!unavailable) await this.remove(id, record.owner);
      }
    });
  }

  /** @throws UploadUnknownError */
  async cancel(name: string, id: string, owner: string): Promise<void> {
    await this.mutex.run(id, async () => {
      const { record } = await this.getWithRecord(name, id, owner);
      await this.remove(id, record.owner);
    });
  }

  /**
   * End sessions untouched for `maxAgeMs` (abandoned uploads): no chunk acknowledged for that
   * long, counted from the start when none was. Decided again under the session's lock, so a
   * chunk being received meanwhile keeps it. @returns how many.
   */
  async expire(maxAgeMs: number, now = this.clock()): Promise<number> {
    let expired = 0;
    const stale = (record: SessionRecord | null): boolean => record === null || now - (record.touchedAt ?? record.createdAt) > maxAgeMs;
    const ids = await this.metadata.members(SESSIONS_KEY);
    this.open = ids.length;
    const owners = new Map<string, number>();
    for (const id of ids) {
      const record = await this.record(id);
      const owner = record?.owner ?? '';
      owners.set(owner, (owners.get(owner) ?? 0) + 1);
      if (!stale(record)) continue;
      const removed = await this.mutex.run(id, async () => {
        if (!stale(await this.record(id))) return false;
        owners.set(owner, (owners.get(owner) ?? 1) - 1);
        await this.remove(id, undefined);
        return true;
      });
      if (removed) expired += 1;
    }
    // What the records say, as `open` above (sessions ended meanwhile are counted once more until the next sweep).
    this.openBy.clear();
    for (const [owner, open] of owners) if (open > 0) this.openBy.set(owner, open);
    return expired;
  }

  /**
   * The session, for the user who started it only: an upload's URL is no capability, so another
   * pusher of the same repository who learns it (from a log, say) can neither read its state nor
   * add to, finish or cancel it. Sessions of records without an owner (older ones) are anyone's.
   */
  private async getWithRecord(name: string, id: string, owner: string): Promise<{ session: UploadSession; record: SessionRecord }> {
    if (!SESSION_ID.test(id)) throw new UploadUnknownError(id);
    const record = await this.record(id);
    if (record === null || record.name !== name || (record.owner !== undefined && record.owner !== owner)) throw new UploadUnknownError(id);
    const info = await stat(this.file(id)).catch(() => null);
    if (info === null) throw new UploadUnknownError(id);
    const size = record.size === undefined ? info.size : Math.min(record.size, info.size);
    return { session: { id, name, size }, record };
  }

  private async record(id: string): Promise<SessionRecord | null> {
    const raw = await this.metadata.get(sessionKey(id));
    if (raw === null) return null;
    try {
      return JSON.parse(raw) as SessionRecord;
    } catch {
      return null;
    }
  }

  /** End a session; `owner` undefined: its count is set by the caller (the expiry sweep). */
  private async remove(id: string, owner: string | undefined): Promise<void> {
    if (owner === undefined) this.open = Math.max(0, this.open - 1);
    else this.count(owner, -1);
    await rm(this.file(id), { force: true });
    await this.metadata.delete(sessionKey(id));
    await this.metadata.removeFromSet(SESSIONS_KEY, id);
  }

  private count(owner: string, delta: number): void {
    this.open = Math.max(0, this.open + delta);
    const open = Math.max(0, (this.openBy.get(owner) ?? 0) + delta);
    if (open === 0) this.openBy.delete(owner);
    else this.openBy.set(owner, open);
  }

  private file(id: string): string {
    return join(this.dir, id);
  }
}
