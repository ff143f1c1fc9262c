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
 * keyrings. Accepted when at least one signature is good (see `judge`) and none is bad:
 * Debian signs with several keys and apt likewise accepts a file when one of them is in the
 * keyring. The signed text comes from gpgv's `--output`, never from our own parsing.
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
    // gpgv is a system tool (Debian's gpgv package); nothing from the caller's environment reaches it.
    env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' },
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
  let results: [number | null, Buffer, Buffer, Buffer];
  try {
    results = await Promise.all([exited, stdout, stderr, status]);
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') throw new Error(`${options.gpgv ?? 'gpgv'} is not installed (Debian package gpgv); it verifies the archive's InRelease files`);
    throw error;
  }
  const [code, out, err, statusBytes] = results;
  const verdict = judge(statusBytes.toString('utf8'));
  if (verdict.bad !== null) throw new SignatureError(verdict.bad);
  if (verdict.valid.length === 0) {
    const tail = err.toString('utf8').trim().split('\n').slice(-2).join('; ');
    throw new SignatureError(`${verdict.reason}${tail ? `: ${tail}` : ''}${code !== 0 ? ` (gpgv exit ${code})` : ''}`);
  }
  if (out.length === 0) throw new SignatureError('gpgv verified no signed text');
  return { text: out.toString('utf8'), signers: verdict.valid };
}

/** Hash algorithms (RFC 4880 ids) too weak to trust, as apt refuses them: MD5, SHA-1, RIPEMD-160. */
const WEAK_HASHES = new Set(['1', '2', '3']);

/**
 * Reads gpgv's status lines signature by signature (each starts at NEWSIG). A signature counts
 * when it has GOODSIG and VALIDSIG with a strong hash; EXPKEYSIG, REVKEYSIG and EXPSIG (an
 * expired or revoked key, an expired signature) do not count, as for apt. Any BADSIG refuses
 * the whole file.
 */
function judge(status: string): { valid: string[]; bad: string | null; reason: string } {
  const groups: string[][] = [];
  for (const line of status.split('\n')) {
    if (!line.startsWith('[GNUPG:] ')) continue;
    const words = line.slice(9).split(' ');
    if (words[0] === 'NEWSIG' || groups.length === 0) groups.push([]);
    (groups[groups.length - 1] as string[]).push(line.slice(9));
  }
  const valid: string[] = [];
  const reasons: string[] = [];
  for (const group of groups) {
    const has = (word: string): string | undefined => group.find((l) => l === word || l.startsWith(`${word} `));
    const bad = has('BADSIG');
    if (bad) return { valid: [], bad: `bad signature (${bad})`, reason: '' };
    const validsig = has('VALIDSIG');
    const unusable = has('EXPKEYSIG') ?? has('REVKEYSIG') ?? has('EXPSIG');
    const hash = validsig?.split(' ')[8];
    if (unusable) reasons.push(`unusable signature (${unusable})`);
    else if (validsig && has('GOODSIG') && hash !== undefined && WEAK_HASHES.has(hash)) reasons.push(`signature with a weak hash algorithm (${hash})`);
    else if (validsig && has('GOODSIG')) valid.push(validsig.split(' ')[1] ?? '');
    else {
      const missing = has('ERRSIG') ?? has('NO_PUBKEY');
      if (missing) reasons.push(`no signature by a trusted key (${missing})`);
    }
  }
  return { valid, bad: null, reason: reasons[0] ?? 'no valid signature' };
}
