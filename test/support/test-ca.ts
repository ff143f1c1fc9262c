import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './commands.js';

export interface TestCa {
  readonly dir: string;
  /** PEM certificate of the CA, for clients to trust. */
  readonly caFile: string;
  /**
   * Issue a server certificate for 127.0.0.1 and `extraIps` (IP SANs), signed by this CA, into
   * `certFile` and `keyFile` (replacing them, as a certificate rotation does).
   */
  issue(certFile: string, keyFile: string, extraIps?: readonly string[]): Promise<void>;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A throwaway certificate authority made with the openssl CLI. */
export async function createTestCa(): Promise<TestCa> {
  const dir = await mkdtemp(join(tmpdir(), 'stowage-ca-'));
  const caFile = join(dir, 'ca.crt');
  const caKey = join(dir, 'ca.key');
  await run('openssl', ['req', '-x509', ...EC_KEY, '-keyout', caKey, '-out', caFile, '-days', '2', '-subj', '/CN=stowage test CA']);
  let serial = 0;
  return {
    dir,
    caFile,
    async issue(certFile, keyFile, extraIps = []) {
      serial += 1;
      const extensions = join(dir, `server-${serial}.ext`);
      const names = ['127.0.0.1', ...extraIps].map((ip) => `IP:${ip}`).join(',');
      await writeFile(extensions, `subjectAltName=${names}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n`);
      const request = join(dir, `server-${serial}.csr`);
      const key = join(dir, `server-${serial}.key`);
      const cert = join(dir, `server-${serial}.crt`);
      await run('openssl', ['req', ...EC_KEY, '-keyout', key, '-out', request, '-subj', '/CN=127.0.0.1']);
      await run('openssl', ['x509', '-req', '-in', request, '-CA', caFile, '-CAkey', caKey, '-set_serial', String(1000 + serial), '-days', '2', '-extfile', extensions, '-out', cert]);
      // Two writes, as a secret update makes them: the server reloads once both have settled.
      await run('cp', [key, keyFile]);
      await run('cp', [cert, certFile]);
    },
  };
}
