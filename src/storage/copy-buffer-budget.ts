/**
 * How big the two buffers of a large-blob copy to a client may be, bounded for the process.
 *
 * A copy to an HTTP/1 response reads into two buffers again and again (`FileRangeStream`). With
 * 1 MiB buffers one client's download ran 1.1–1.2x distribution's rate on the 2-core machine of
 * docs/performance.md, with 256 KiB buffers 0.94–0.95x: each buffer costs a read, a socket write
 * and the wait for its callback, and the fewer of them per byte, the less time the socket sits
 * empty between writes. But a registry can have thousands of downloads in flight at once (a
 * cluster rolling out an image), so big buffers go to at most `limitBytes / (2 * bigBytes)`
 * copies at a time; the others copy with small buffers, as every copy did before.
 */
export class CopyBufferBudget {
  private bigBytesInUse = 0;

  constructor(
    readonly bigBytes: number,
    readonly smallBytes: number,
    private readonly limitBytes: number,
  ) {}

  /** The size of each of a copy's two buffers; call `release` with it when the copy is over. */
  take(): number {
    if (this.bigBytesInUse + 2 * this.bigBytes > this.limitBytes) return this.smallBytes;
    this.bigBytesInUse += 2 * this.bigBytes;
    return this.bigBytes;
  }

  release(size: number): void {
    if (size === this.bigBytes) this.bigBytesInUse -= 2 * this.bigBytes;
  }

  /** Bytes of big buffers held by copies now (tests and metrics read it). */
  get inUse(): number {
    return this.bigBytesInUse;
  }
}
