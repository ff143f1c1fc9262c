import { stat } from 'node:fs/promises';
import { Htpasswd } from './htpasswd.js';

/** Where a credential check gets the users from: a fixed set, or a file re-read when it changes. */
export interface HtpasswdSource {
  /** The users as they are now (may first look whether the file changed). */
  current(): Promise<Htpasswd>;
}

/** What one look at the file found, for logs and metrics. */
export type HtpasswdReload =
  | { readonly ok: true; readonly users: number }
  /** The file could not be read or parsed: the users loaded before stay. */
  | { readonly ok: false; readonly error: string };

export interface HtpasswdFileOptions {
  readonly path: string;
  /** How often, at most, the file's metadata is looked at (default 5 s). */
  readonly checkIntervalMs?: number;
  /** Milliseconds since some epoch; injectable for tests. */
  readonly now?: () => number;
  /** Called after each reload attempt of a changed file (log it; count failures). */
  readonly onReload?: (reload: HtpasswdReload) => void;
}

/**
 * The htpasswd file, re-read when it changes, as distribution does: on a login, at most once per
 * `checkIntervalMs`, the file's inode, size and times are compared with those of the last read,
 * and a changed file is parsed whole before it replaces the users (a login never sees half a
 * file). A file that no longer parses, or is gone, keeps the previous users and is reported
 * (`lastError`, `onReload`): a typo must not lock everyone out, nor pass unnoticed. Looks made
 * by concurrent logins are shared.
 */
export class HtpasswdFile implements HtpasswdSource {
  private users: Htpasswd;
  private signature: string;
  private checkedAt: number;
  private checking: Promise<Htpasswd> | null = null;
  private failure: string | null = null;
  private readonly intervalMs: number;
  private readonly now: () => number;

  private constructor(
    private readonly options: HtpasswdFileOptions,
    first: { users: Htpasswd; signature: string },
  ) {
    this.users = first.users;
    this.signature = first.signature;
    this.intervalMs = options.checkIntervalMs ?? 5_000;
    this.now = options.now ?? Date.now;
    this.checkedAt = this.now();
  }

  /** @throws Error when the file cannot be read or parsed at start (the server does not start). */
  static async open(options: HtpasswdFileOptions): Promise<HtpasswdFile> {
    const signature = await signatureOf(options.path);
    return new HtpasswdFile(options, { users: await Htpasswd.load(options.path), signature });
  }

  /** Why the last reload failed while the previous users are still served; null when the file in use is the file on disk. */
  get lastError(): string | null {
    return this.failure;
  }

  /** Users in the version of the file in use. */
  get size(): number {
    return this.users.size;
  }

  current(): Promise<Htpasswd> {
    // A login arriving while a look is under way waits for it rather than take the users it may replace.
    if (this.checking !== null) return this.checking;
    if (this.now() - this.checkedAt < this.intervalMs) return Promise.resolve(this.users);
    this.checking ??= this.check().finally(() => {
      this.checking = null;
    });
    return this.checking;
  }

  private async check(): Promise<Htpasswd> {
    this.checkedAt = this.now();
    try {
      const signature = await signatureOf(this.options.path).catch((error: unknown) => {
        // Gone: whatever file comes back next is a change.
        this.signature = 'missing';
        throw error;
      });
      // Unchanged since the last attempt, whether that one loaded or failed: nothing to report again.
      if (signature === this.signature) return this.users;
      this.signature = signature;
      this.users = await Htpasswd.load(this.options.path);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (this.failure !== message) {
        this.failure = message;
        this.options.onReload?.({ ok: false, error: message });
      }
      return this.users;
    }
    this.failure = null;
    this.options.onReload?.({ ok: true, users: this.users.size });
    return this.users;
  }
}

/** What changes when the file is written or replaced. */
async function signatureOf(path: string): Promise<string> {
  const info = await stat(path, { bigint: true });
  return `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`;
}
