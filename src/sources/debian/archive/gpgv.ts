import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';

/** Debian's archive keyring as the `debian-archive-keyring` package installs it. */
export const DEFAULT_DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

/** What gpgv vouched for. */
export interface VerifiedClearsigned {
  /**
   * The signed text exactly as gpgv verified it (dash-escaping undone). Text outside the
   * signed block of the input never appears here, so it cannot smuggle fields in.
   */
  readonly text: string;
  /** Fingerprints of the keys with a valid signature (VALIDSIG), in the order signed. */
  readonly signers: readonly string[];
}

/** The signature did not verify: why, in gpgv's own status words. */
export class SignatureError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'SignatureError';
  }
}

export interface GpgvOptions {
  /** Keyring files the signature must come from (default Debian's archive keyring). */
  readonly keyrings?: readonly string[];
  /** The gpgv executable (default `gpgv` on PATH). */
  readonly gpgv?: string;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

function drain(stream: Readable | null): Promise<Buffer> {
  if (!stream) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('error', reject);
    stream.once('end', () => resolve(Buffer.concat(chunks)));
  });
}

/**
 * Verifies a clear-signed file (an `InRelease`) with `gpgv`, which trusts only the given
 * keyrings. Accepted when at least one signature is good and valid (VALIDSIG) and none is bad
 * (BADSIG): Debian signs with several keys and apt likewise accepts a file when one of them is
 * in the keyring. The signed text comes from gpgv's `--output`, never from our own parsing.
 * stdin, stdout, stderr and the status pipe (fd 3) are all serviced at once, so gpgv never
 * blocks on a full pipe.
 * @throws SignatureError when the signature is missing, bad or from an unknown key.
 */
export async function verifyClearsigned(data: Buffer, options: GpgvOptions = {}): Promise<VerifiedClearsigned> {
  const keyrings = options.keyrings ?? [DEFAULT_DEBIAN_KEYRING];
  const args = ['--status-fd', '3', ...keyrings.flatMap((k) => ['--keyring', k]), '--output', '-', '-'];
  const child = spawn(options.gpgv ?? 'gpgv', args, {
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    signal: options.signal,
    timeout: options.timeoutMs ?? 30_000,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' },
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  const stdout = drain(child.stdout);
  const stderr = drain(child.stderr);
  const status = drain(child.stdio[3] as Readable | null);
  child.stdin.on('error', () => undefined);
  child.stdin.end(data);
  const [code, out, err, statusBytes] = await Promise.all([exited, stdout, stderr, status]);
  const lines = statusBytes.toString('utf8').split('\n');
  const keyword = (word: string): string[] => lines.filter((l) => l.startsWith(`[GNUPG:] ${word} `) || l === `[GNUPG:] ${word}`);
  const bad = keyword('BADSIG');
  if (bad.length > 0) throw new SignatureError(`bad signature (${bad[0]?.slice(9)})`);
  const valid = keyword('VALIDSIG').map((l) => l.split(' ')[2] ?? '');
  if (valid.length === 0) {
    const errsig = keyword('ERRSIG')[0] ?? keyword('NO_PUBKEY')[0];
    const reason = errsig ? `no signature by a trusted key (${errsig.slice(9)})` : 'no valid signature';
    const tail = err.toString('utf8').trim().split('\n').slice(-2).join('; ');
    throw new SignatureError(`${reason}${tail ? `: ${tail}` : ''}${code !== 0 ? ` (gpgv exit ${code})` : ''}`);
  }
  if (out.length === 0) throw new SignatureError('gpgv verified no signed text');
  return { text: out.toString('utf8'), signers: valid };
}
