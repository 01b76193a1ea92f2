// Signing keys on the services' side: read from a file where the services run (the desktop's
// main process, or the web console's server), kept as PEM text by the connection store.
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { keyIdOf, readSigningKey, type SigningKey } from '../../core/signing';

export type { SigningKey };

/** Reads and checks a key file (Ed25519, mode 0600); its PEM text and key id. */
export function privateKeyText(path: string): { pem: string; id: string } {
  // A path typed in a form: ~ means the home of the user the services run as.
  const key = readSigningKey(path.startsWith('~/') ? join(homedir(), path.slice(2)) : path);
  return { pem: key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, id: key.id };
}

export function signingKeyFromText(pem: string): SigningKey {
  const privateKey = createPrivateKey(pem);
  return { id: keyIdOf(createPublicKey(privateKey)), privateKey };
}
