import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { NarInput } from './nar-input.js';

/** How a file's bytes are kept for a second `open()`. */
export type CaptureMode = 'none' | 'memory' | 'disk';

/** Where the contents of the current file come from a second time, when they were not kept. */
export type Refetch = (offset: number, size: number) => Readable;

/**
 * The contents of the NAR's current file. The first `open()` streams them from the NAR; a
 * second `open()` (the layer writer re-reads a file to compare it with an earlier one of the
 * same size before writing it or a hard link) is served from what the first one kept: chunks in
 * memory, or a spill file on disk for big files, per `capture`. Without a capture the bytes are
 * fetched again with `refetch` (a new download of the NAR, skipped to the file).
 */
export class NarFileContent {
  private first: NarContentStream | undefined;
  private readonly chunks: Buffer[] = [];
  private spill: { path: string; handle: FileHandle | undefined } | undefined;
  private complete = false;
  private released = false;

  constructor(
    private readonly input: NarInput,
    readonly size: number,
    readonly offset: number,
    private readonly capture: CaptureMode,
    private readonly tmpDir: string,
    private readonly refetch: Refetch,
  ) {}

  open(): Readable {
    if (this.released) throw new Error('a NAR entry was opened after the reader moved past it');
    if (!this.first) {
      this.first = new NarContentStream(() => this.pull());
      return this.first;
    }
    if (!this.complete) {
      // Not kept (or the first read did not finish): read the bytes again from the cache.
      return this.refetch(this.offset, this.size);
    }
    if (this.spill) return createReadStream(this.spill.path, { highWaterMark: 256 * 1024 });
    return Readable.from(this.chunks, { objectMode: false });
  }

  /** Stop the first stream and drop what was kept; called before the reader moves on. */
  async release(): Promise<void> {
    this.released = true;
    if (this.first && !this.first.destroyed) {
      this.first.destroy();
      await this.first.idle();
    }
    this.chunks.length = 0;
    const spill = this.spill;
    this.spill = undefined;
    if (spill) {
      await spill.handle?.close().catch(() => undefined);
      await rm(spill.path, { force: true });
    }
  }

  private async pull(): Promise<Buffer | null> {
    const chunk = await this.input.readContent();
    if (chunk === null) {
      if (this.spill?.handle) {
        await this.spill.handle.close();
        this.spill.handle = undefined;
      }
      this.complete = this.capture !== 'none';
      return null;
    }
    if (this.capture === 'memory') {
      this.chunks.push(chunk);
    } else if (this.capture === 'disk') {
      if (!this.spill) {
        const file = path.join(this.tmpDir, `stowage-nar-${randomUUID()}`);
        this.spill = { path: file, handle: await open(file, 'wx', 0o600) };
      }
      await this.spill.handle?.write(chunk);
    }
    return chunk;
  }
}

/**
 * A Readable over an async pull function that remembers its read in flight, so that whoever
 * moves the NAR on can first wait until nothing reads from it any more.
 */
class NarContentStream extends Readable {
  private inFlight: Promise<void> = Promise.resolve();

  constructor(private readonly next: () => Promise<Buffer | null>) {
    super({ highWaterMark: 256 * 1024 });
  }

  override _read(): void {
    this.inFlight = this.next().then(
      (chunk) => {
        if (!this.destroyed) this.push(chunk);
      },
      (error: unknown) => {
        this.destroy(error instanceof Error ? error : new Error(String(error)));
      },
    );
  }

  /** Resolves when no read is in flight. */
  idle(): Promise<void> {
    return this.inFlight;
  }
}
