/** Messages between auth/bcrypt-workers.ts and the bcrypt-verifier worker module. */

export interface BcryptRequest {
  readonly id: number;
  readonly password: string;
  readonly hash: string;
}

export interface BcryptResult {
  readonly id: number;
  readonly ok: boolean;
  /** Set when the hash could not be compared (malformed); `ok` is then false. */
  readonly error?: string;
}
