/**
 * Messages between LocalStoreReader and its walker thread (store-walker.ts). A walk is a
 * session with an id: `start` it (which answers with the first batch), ask for each `next`
 * batch, `stop` it early (a walk whose last batch was sent is already over). Every message
 * crossing threads costs a wake-up of the other side, which under load is more than a small
 * store path's whole walk: a store path that fits one batch takes one request and one answer.
 * Answers carry the session's id, so a pooled walker's late answers to an earlier walk are
 * told apart.
 */

/** Limits of one batch of entries. */
export interface BatchLimits {
  readonly batchEntries: number;
  readonly batchBytes: number;
  /** Files up to this size travel inside the batch; larger ones are streamed on open(). */
  readonly inlineBytes: number;
}

export type WalkerRequest =
  | { readonly type: 'start'; readonly id: number; readonly real: string; readonly logical: string; readonly limits: BatchLimits }
  | { readonly type: 'next'; readonly id: number; readonly limits: BatchLimits }
  | { readonly type: 'stop'; readonly id: number };

/** An entry as the walker sends it: file contents by offset into the batch buffer. */
export type RawEntry =
  | { readonly kind: 'directory'; readonly path: string }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string }
  | {
      readonly kind: 'file';
      readonly path: string;
      readonly size: number;
      readonly executable: boolean;
      /** Offset of the bytes in the batch buffer, or -1: stream them from `real`. */
      readonly offset: number;
      /** The file on disk, sent only when its bytes are not in the batch. */
      readonly real?: string;
    };

export type WalkerMessage =
  | { readonly type: 'batch'; readonly id: number; readonly entries: readonly RawEntry[]; readonly buffer: ArrayBuffer | null; readonly done: boolean }
  | {
      readonly type: 'error';
      readonly id: number;
      readonly message: string;
      readonly code?: string;
      /** Set when the walk met an entry a NAR cannot hold: that entry's path. */
      readonly unsupported?: string;
    };
