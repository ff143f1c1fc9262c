/**
 * Messages between NarDecoderStream and its decoder thread (nar-decoder.ts). In: `start` a job,
 * `data` (input), `more` (output credit in bytes), `end`, `abort`. Out, each with the job's id:
 * `output` {chunk}, `consumed` (one `data` message fully read), `done` {digest, size}, `error`.
 * Ids tell a pooled worker's late messages for an earlier, aborted job apart.
 */

/** NAR compressions the worker decodes. */
export type WorkerCompression = 'zstd' | 'xz' | 'none';

export interface StartJob {
  readonly type: 'start';
  readonly id: number;
  readonly compression: WorkerCompression;
  /** The NAR's declared size: decoding more than this fails (a decompression bomb). */
  readonly maxOutput: number;
  readonly windowLogMax?: number;
  readonly xzMemlimit?: number;
  readonly xzOutputBytes?: number;
}

export type DecoderRequest =
  | StartJob
  | { readonly type: 'data'; readonly id: number; readonly chunk: ArrayBuffer }
  | { readonly type: 'more'; readonly id: number; readonly bytes: number }
  | { readonly type: 'end'; readonly id: number }
  | { readonly type: 'abort'; readonly id: number };

export type DecoderMessage = { readonly id: number } & (
  | { readonly type: 'output'; readonly chunk: ArrayBuffer }
  | { readonly type: 'consumed' }
  | { readonly type: 'done'; readonly digest: ArrayBuffer; readonly size: number }
  | { readonly type: 'error'; readonly message: string }
);
