import { createHash, type Hash } from 'node:crypto';

/** What the signed narinfo says the NAR is. */
export interface NarExpectation {
  readonly size: number;
  readonly sha256: Buffer;
}

const EMPTY = Buffer.alloc(0);
const ZERO_PADDING = Buffer.alloc(8);

/**
 * The uncompressed bytes of one NAR, pulled chunk by chunk from a stream and read by the NAR
 * parser. Every byte is counted (and hashed, unless the producer hashes) as it arrives: more
 * bytes than NarSize fail at once;
 * `finish()` fails unless the stream ends exactly at the NAR's end with the declared NarSize and
 * NarHash. Memory stays at one chunk: reads return views into it, copying only the few strings
 * that straddle two chunks.
 */
export class NarInput {
  private chunk: Buffer = EMPTY;
  private offset = 0;
  private received = 0;
  /** Unread bytes of the current file's contents, and the padding after them. */
  private contentLeft = 0;
  private paddingLeft = 0;

  private readonly hash: Hash | undefined;

  constructor(
    private readonly source: AsyncIterator<Uint8Array>,
    private readonly expected: NarExpectation,
    /** Turns a reason into the error to throw (a BinaryCacheIntegrityError naming the path). */
    readonly fail: (reason: string) => Error,
    /**
     * The stream's own SHA-256 and size of what it delivered, when its producer computed them
     * (a decoder worker); known at the end of the stream. Without it the bytes are hashed here.
     */
    private readonly producerDigest?: () => { readonly sha256: Buffer; readonly size: number } | undefined,
  ) {
    this.hash = producerDigest ? undefined : createHash('sha256');
  }

  /** Offset in the NAR of the next unread byte. */
  get position(): number {
    return this.received - (this.chunk.length - this.offset);
  }

  /** NAR bytes still to come according to NarSize. */
  get remaining(): number {
    return this.expected.size - this.position;
  }

  /** Exactly `length` bytes (a view into the current chunk when they are all in it). */
  async read(length: number): Promise<Buffer> {
    if (this.chunk.length - this.offset >= length) {
      const out = this.chunk.subarray(this.offset, this.offset + length);
      this.offset += length;
      return out;
    }
    const out = Buffer.allocUnsafe(length);
    let filled = 0;
    while (filled < length) {
      if (this.offset === this.chunk.length) await this.fillOrFail();
      const take = Math.min(length - filled, this.chunk.length - this.offset);
      this.chunk.copy(out, filled, this.offset, this.offset + take);
      this.offset += take;
      filled += take;
    }
    return out;
  }

  /** A little-endian u64, which must fit a safe integer. */
  async readU64(): Promise<number> {
    const bytes = await this.read(8);
    const high = bytes.readUInt32LE(4);
    if (high > 0x1fffff) throw this.fail('the NAR holds a length beyond 2^53');
    return high * 0x100000000 + bytes.readUInt32LE(0);
  }

  /** Zero padding to the next multiple of 8 after `length` bytes. */
  async readPadding(length: number): Promise<void> {
    const padding = (8 - (length % 8)) % 8;
    if (padding === 0) return;
    if (!(await this.read(padding)).equals(ZERO_PADDING.subarray(0, padding))) throw this.fail('the NAR has non-zero padding');
  }

  /** Start a file's `size` bytes of contents; they are read with `readContent()` or skipped with `skipContent()`. */
  beginContent(size: number): void {
    this.contentLeft = size;
    this.paddingLeft = (8 - (size % 8)) % 8;
  }

  /**
   * The next piece of the current file's unread contents, as a view into the stream's chunk, or
   * null when it has all been read.
   */
  async readContent(): Promise<Buffer | null> {
    if (this.contentLeft === 0) return null;
    if (this.offset === this.chunk.length) await this.fillOrFail();
    const take = Math.min(this.contentLeft, this.chunk.length - this.offset);
    const out = this.chunk.subarray(this.offset, this.offset + take);
    this.offset += take;
    this.contentLeft -= take;
    return out;
  }

  /** Skip what is left of the current file's contents, then check its padding. */
  async skipContent(): Promise<void> {
    while (this.contentLeft > 0) {
      if (this.offset === this.chunk.length) await this.fillOrFail();
      const take = Math.min(this.contentLeft, this.chunk.length - this.offset);
      this.offset += take;
      this.contentLeft -= take;
    }
    const padding = this.paddingLeft;
    this.paddingLeft = 0;
    if (padding > 0 && !(await this.read(padding)).equals(ZERO_PADDING.subarray(0, padding))) {
      throw this.fail('the NAR has non-zero padding');
    }
  }

  /**
   * After the NAR's last token: the stream must end here, with NarSize bytes whose hash is
   * NarHash. Only then is anything read from this NAR trustworthy.
   */
  async finish(): Promise<void> {
    if (this.offset < this.chunk.length || (await this.fill())) throw this.fail('the stream has data after the end of the NAR');
    if (this.received !== this.expected.size) {
      throw this.fail(`the NAR has ${this.received} bytes but its NarSize is ${this.expected.size}`);
    }
    const produced = this.producerDigest?.();
    if (this.producerDigest && (!produced || produced.size !== this.received)) throw this.fail('the NAR stream did not report its hash');
    const digest = produced ? produced.sha256 : (this.hash as Hash).digest();
    if (!digest.equals(this.expected.sha256)) throw this.fail('the NAR does not match its NarHash');
  }

  private async fillOrFail(): Promise<void> {
    if (!(await this.fill())) {
      throw this.fail(`the NAR stream ends after ${this.received} of ${this.expected.size} bytes (truncated)`);
    }
  }

  private async fill(): Promise<boolean> {
    for (;;) {
      const next = await this.source.next();
      if (next.done) return false;
      const value = next.value;
      if (value.length === 0) continue;
      const chunk = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.length);
      this.received += chunk.length;
      if (this.received > this.expected.size) throw this.fail(`the NAR is longer than its NarSize ${this.expected.size}`);
      this.hash?.update(chunk);
      this.chunk = chunk;
      this.offset = 0;
      return true;
    }
  }
}
