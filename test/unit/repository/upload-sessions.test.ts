import { mkdtemp, readdir, stat, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { UploadSessions } from '../../../src/repository/upload-sessions.js';
import { UploadLimitError } from '../../../src/repository/errors.js';
import { MemoryMetadataStore } from '../../../src/storage/memory-metadata-store.js';
import { UploadKeys } from '../../../src/storage/metadata-keys.js';
import { StorageUnavailableError } from '../../../src/storage/errors.js';
import { MemoryBlobStore } from '../../../src/storage/memory-blob-store.js';
import { digestOf } from '../../conformance/client.js';

async function sessions() {
  const dir = await mkdtemp(join(tmpdir(), 'stowage-uploads-'));
  const metadata = new MemoryMetadataStore();
  const uploads = new UploadSessions(dir, metadata, new MemoryBlobStore());
  await uploads.init();
  return { dir, metadata, uploads };
}

describe('UploadSessions after a crash', () => {
  it('counts only acknowledged bytes when the file holds more, and recover cuts the rest off', async () => {
    const { dir, uploads } = await sessions();
    const session = await uploads.create('team/app');
    await uploads.append('team/app', session.id, '', Readable.from([Buffer.alloc(100, 1)]), { start: 0, end: 99 }, 100);
    // Bytes of a chunk a killed process wrote but never acknowledged.
    await appendFile(join(dir, session.id), Buffer.alloc(50, 9));
    expect((await uploads.get('team/app', session.id, '')).size).toBe(100);
    expect(await uploads.recover()).toEqual({ removed: 0, truncated: 1 });
    expect((await stat(join(dir, session.id))).size).toBe(100);
    const data = Buffer.concat([Buffer.alloc(100, 1), Buffer.alloc(20, 2)]);
    const blob = await uploads.finish('team/app', session.id, '', digestOf(data), Readable.from([Buffer.alloc(20, 2)]), 20);
    expect(blob.digest).toBe(digestOf(data));
  });

  it('an append after unacknowledged bytes continues from the acknowledged offset', async () => {
    const { dir, uploads } = await sessions();
    const session = await uploads.create('team/app');
    await uploads.append('team/app', session.id, '', Readable.from([Buffer.alloc(10, 1)]), null, 10);
    await appendFile(join(dir, session.id), Buffer.alloc(5, 9));
    const next = await uploads.append('team/app', session.id, '', Readable.from([Buffer.alloc(10, 2)]), { start: 10, end: 19 }, 10);
    expect(next.size).toBe(20);
    expect((await stat(join(dir, session.id))).size).toBe(20);
  });

  it('recover removes staging files of sessions that no longer exist, and keeps live ones', async () => {
    const { dir, uploads } = await sessions();
    const live = await uploads.create('team/app');
    await writeFile(join(dir, '00000000-0000-4000-8000-000000000000'), 'ended session');
    await writeFile(join(dir, 'not-a-session'), 'junk');
    expect(await uploads.recover()).toEqual({ removed: 2, truncated: 0 });
    expect(await readdir(dir)).toEqual([live.id]);
  });
});

describe('UploadSessions expiry', () => {
  const HOUR = 60 * 60 * 1000;

  async function clocked() {
    const dir = await mkdtemp(join(tmpdir(), 'stowage-uploads-'));
    let now = 1_000_000;
    const uploads = new UploadSessions(dir, new MemoryMetadataStore(), new MemoryBlobStore(), () => now);
    await uploads.init();
    return { uploads, advance: (ms: number) => (now += ms), now: () => now };
  }

  it('discards a session untouched for the TTL', async () => {
    const { uploads, advance, now } = await clocked();
    const session = await uploads.create('team/app');
    advance(24 * HOUR + 1);
    expect(await uploads.expire(24 * HOUR, now())).toBe(1);
    await expect(uploads.get('team/app', session.id, '')).rejects.toThrow(/not known/);
  });

  it('keeps a session that is still receiving chunks past the TTL counted from its start (config: "untouched for this long")', async () => {
    const { uploads, advance, now } = await clocked();
    const session = await uploads.create('team/app');
    for (let hour = 0; hour < 30; hour += 6) {
      advance(6 * HOUR);
      const { size } = await uploads.get('team/app', session.id, '');
      await uploads.append('team/app', session.id, '', Readable.from([Buffer.alloc(10, 1)]), { start: size, end: size + 9 }, 10);
      expect(await uploads.expire(24 * HOUR, now())).toBe(0);
    }
    expect((await uploads.get('team/app', session.id, '')).size).toBe(50);
    advance(24 * HOUR + 1);
    expect(await uploads.expire(24 * HOUR, now())).toBe(1);
  });
});

describe('UploadSessions bound', () => {
  it('refuses new sessions while maxSessions are open, and takes them again as sessions end or expire', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stowage-uploads-'));
    let now = 1_000_000;
    const uploads = new UploadSessions(dir, new MemoryMetadataStore(), new MemoryBlobStore(), () => now, 2);
    await uploads.init();
    const first = await uploads.create('team/app');
    await uploads.create('team/other');
    await expect(uploads.create('team/app')).rejects.toBeInstanceOf(UploadLimitError);
    expect(await readdir(dir)).toHaveLength(2);
    await uploads.cancel('team/app', first.id, '');
    const third = await uploads.create('team/app');
    await uploads.finish('team/app', third.id, '', digestOf(Buffer.alloc(0)), null, null);
    const fourth = await uploads.create('team/app');
    await expect(uploads.create('team/app')).rejects.toBeInstanceOf(UploadLimitError);
    now += 2 * 60 * 60 * 1000;
    expect(await uploads.expire(60 * 60 * 1000)).toBe(2);
    await uploads.create('team/app');
    await expect(uploads.get('team/app', fourth.id, '')).rejects.toThrow(/not known/);
  });

  it('counts sessions another process opened once a sweep has seen them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stowage-uploads-'));
    const metadata = new MemoryMetadataStore();
    const other = new UploadSessions(dir, metadata, new MemoryBlobStore(), Date.now, 2);
    await other.init();
    await other.create('team/app');
    await other.create('team/app');
    const uploads = new UploadSessions(dir, metadata, new MemoryBlobStore(), Date.now, 2);
    expect(await uploads.expire(60 * 60 * 1000)).toBe(0);
    await expect(uploads.create('team/app')).rejects.toBeInstanceOf(UploadLimitError);
  });

  it('bounds each owner to maxPerOwner, by this process and by what a sweep sees, freeing what ends or expires', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stowage-uploads-'));
    const metadata = new MemoryMetadataStore();
    let now = 1_000_000;
    const other = new UploadSessions(dir, metadata, new MemoryBlobStore(), () => now, 10, 2);
    await other.init();
    await other.create('team/app', 'alice');
    const second = await other.create('team/app', 'alice');
    await expect(other.create('team/app', 'alice')).rejects.toThrow(/alice has 2 uploads in progress/);
    await other.create('team/app', 'bob');
    await other.cancel('team/app', second.id, 'alice');
    await other.create('team/app', 'alice');

    const uploads = new UploadSessions(dir, metadata, new MemoryBlobStore(), () => now, 10, 2);
    expect(await uploads.expire(60 * 60 * 1000)).toBe(0);
    await expect(uploads.create('team/app', 'alice')).rejects.toBeInstanceOf(UploadLimitError);
    await uploads.create('team/app', 'bob');
    now += 2 * 60 * 60 * 1000;
    expect(await uploads.expire(60 * 60 * 1000)).toBe(4);
    await uploads.create('team/app', 'alice');
    await uploads.create('team/app', 'alice');
    await expect(uploads.create('team/app', 'alice')).rejects.toBeInstanceOf(UploadLimitError);
  });
});

describe('UploadSessions answer only the user who started them', () => {
  it('is unknown to any other user: no status, chunk, finish or cancel, and the owner goes on undisturbed', async () => {
    const { uploads } = await sessions();
    const session = await uploads.create('shared/x', 'alice');
    await uploads.append('shared/x', session.id, 'alice', Readable.from([Buffer.from('alice-')]), null, 6);
    for (const intruder of ['eve', '']) {
      await expect(uploads.get('shared/x', session.id, intruder)).rejects.toThrow(/not known/);
      await expect(uploads.append('shared/x', session.id, intruder, Readable.from([Buffer.from('EVIL')]), null, 4)).rejects.toThrow(/not known/);
      await expect(uploads.finish('shared/x', session.id, intruder, digestOf(Buffer.from('alice-')), null, null)).rejects.toThrow(/not known/);
      await expect(uploads.cancel('shared/x', session.id, intruder)).rejects.toThrow(/not known/);
    }
    expect((await uploads.get('shared/x', session.id, 'alice')).size).toBe(6);
    const data = Buffer.from('alice-data');
    const blob = await uploads.finish('shared/x', session.id, 'alice', digestOf(data), Readable.from([Buffer.from('data')]), 4);
    expect(blob.digest).toBe(digestOf(data));
  });

  it('leaves a session recorded without an owner (before owners were kept) to anyone', async () => {
    const { metadata, uploads } = await sessions();
    const session = await uploads.create('shared/x', 'alice');
    // Rewrite the record as an older version wrote it: no owner.
    const key = UploadKeys.session(session.id);
    const raw = (await metadata.get(key)) ?? '';
    expect(raw).toContain('"owner":"alice",');
    await metadata.set(key, raw.replace('"owner":"alice",', ''));
    expect((await uploads.get('shared/x', session.id, 'bob')).size).toBe(0);
  });
});

describe('UploadSessions when the blob store is unavailable at the end', () => {
  it('keeps the session and its bytes for the PUT to be sent again, its final chunk taken back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stowage-uploads-'));
    const blobs = new MemoryBlobStore();
    const uploads = new UploadSessions(dir, new MemoryMetadataStore(), blobs);
    await uploads.init();
    const session = await uploads.create('team/app', 'alice');
    await uploads.append('team/app', session.id, 'alice', Readable.from([Buffer.from('first-')]), null, 6);
    const writer = blobs.writer.bind(blobs);
    blobs.writer = async () => {
      throw new StorageUnavailableError('blob storage (S3) is unavailable: PutObject failed');
    };
    const data = Buffer.from('first-last');
    await expect(uploads.finish('team/app', session.id, 'alice', digestOf(data), Readable.from([Buffer.from('last')]), 4)).rejects.toBeInstanceOf(StorageUnavailableError);
    expect((await uploads.get('team/app', session.id, 'alice')).size).toBe(6);
    blobs.writer = writer;
    const blob = await uploads.finish('team/app', session.id, 'alice', digestOf(data), Readable.from([Buffer.from('last')]), 4);
    expect(blob.digest).toBe(digestOf(data));
    await expect(uploads.get('team/app', session.id, 'alice')).rejects.toThrow(/not known/);
  });
});
