/**
 * TLS for `npm start` and the standalone relay: with a certificate and key the same port
 * serves https and wss. Needed whenever the page is loaded over https, since such a page
 * may only open wss:// sockets (mixed content); behind a reverse proxy that terminates
 * TLS the relay can stay on plain http/ws.
 */
import { readFileSync } from 'node:fs';
import { invalidArgument } from '../core/errors.js';

export interface TlsFiles {
  /** PEM certificate chain. */
  cert: Buffer;
  /** PEM private key. */
  key: Buffer;
}

/** Read both PEM files; throws INVALID_ARGUMENT naming the flag when one is missing or unreadable. */
export function loadTlsFiles(certPath: string | undefined, keyPath: string | undefined): TlsFiles | undefined {
  if (certPath === undefined && keyPath === undefined) return undefined;
  if (certPath === undefined) throw invalidArgument('--tls-cert', 'a certificate file to go with --tls-key');
  if (keyPath === undefined) throw invalidArgument('--tls-key', 'a private key file to go with --tls-cert');
  return { cert: readPem('--tls-cert', certPath, 'CERTIFICATE'), key: readPem('--tls-key', keyPath, 'PRIVATE KEY') };
}

function readPem(flag: string, path: string, label: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw invalidArgument(
      flag,
      'a readable PEM file',
      `${path} (${(e as NodeJS.ErrnoException).code ?? 'unreadable'})`,
    );
  }
  // "PRIVATE KEY" also matches "RSA PRIVATE KEY" and "EC PRIVATE KEY".
  if (!bytes.toString('latin1').includes(label)) throw invalidArgument(flag, `a PEM file with a ${label} block`, path);
  return bytes;
}
