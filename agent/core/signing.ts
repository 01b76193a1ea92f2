// Signed job specs: Ed25519 keys (node:crypto, no dependency), what a signature covers, and
// checking a stored job against the keys a node trusts.
//
// A signature covers the job's canonical spec (stable key order, defaults filled) and its
// incarnation (`uid`, when the stored value has one: a deleted and re-created job gets a new
// uid, so an old signature cannot bring back a job someone deleted). `paused` is left out on
// purpose: pausing and resuming are operations anyone with write access may do without a key,
// and neither can make a node run a command nobody signed.
//
// Stored form: the job's JSON value carries `signature: { key: <key id>, sig: <base64> }`.
// A key id is the first 16 hex digits of the SHA-256 of the raw 32-byte public key.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as cryptoSign,
  verify as cryptoVerify,
  type KeyObject,
} from 'node:crypto';
import { readFileSync, writeFileSync, statSync } from 'node:fs';
import { JOB_FIELDS, canonicalJob, type JobSpec } from './job/spec';

export interface JobSignature {
  /** Key id of the signing key. */
  key: string;
  /** Ed25519 signature of signedPayload(value), base64. */
  sig: string;
}

/** The stored job value: the spec, plus what the store adds around it. */
export type StoredJob = JobSpec & { uid?: string; signature?: JobSignature };

export interface SigningKey {
  id: string;
  privateKey: KeyObject;
}

export interface TrustedKey {
  id: string;
  publicKey: KeyObject;
  /** Where it came from (a file, or "inline"): for messages. */
  source: string;
}

const PAYLOAD_TAG = 'peppercorn-job-v1\n';

// SubjectPublicKeyInfo DER of an Ed25519 key is this 12-byte header and the 32 raw key bytes.
const SPKI_ED25519_HEADER = Buffer.from('302a300506032b6570032100', 'hex');

/** The exact bytes a signature covers. */
export function signedPayload(value: StoredJob): string {
  const covered: Record<string, unknown> = {};
  for (const field of JOB_FIELDS) if (field !== 'paused') covered[field] = value[field];
  const canonical = canonicalJob({ ...(covered as unknown as JobSpec), paused: false });
  // uid is appended outside the spec so a spec without one signs exactly as before.
  return PAYLOAD_TAG + canonical + (value.uid !== undefined ? `\nuid=${value.uid}` : '');
}

function rawPublicKey(key: KeyObject): Buffer {
  const der = key.export({ type: 'spki', format: 'der' });
  return der.subarray(der.length - 32);
}

export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(rawPublicKey(publicKey)).digest('hex').slice(0, 16);
}

/** The one-line text form of a public key (base64 of its 32 raw bytes), as in `.pub` files and trustedKeys. */
export function publicKeyText(publicKey: KeyObject): string {
  return rawPublicKey(publicKey).toString('base64');
}

/** Returns `value` with a fresh signature (any old one replaced). */
export function signJob<T extends StoredJob>(value: T, key: SigningKey): T {
  const unsigned: T = { ...value };
  delete unsigned.signature;
  const sig = cryptoSign(null, Buffer.from(signedPayload(unsigned)), key.privateKey).toString('base64');
  return { ...unsigned, signature: { key: key.id, sig } };
}

export type Verdict = { ok: true; keyId: string } | { ok: false; keyId?: string; reason: string };

/**
 * Whether a stored job is signed by one of `trusted`. The reason names the key id (or says
 * it is unsigned) and what to do, for the run record and the alert.
 */
export function verifyJob(value: StoredJob, trusted: TrustedKey[]): Verdict {
  const sig = value.signature;
  const fix = 'sign it with a trusted key: peppercorn job apply --sign-key FILE';
  if (!sig || typeof sig.key !== 'string' || typeof sig.sig !== 'string')
    return { ok: false, reason: `spec not signed by a trusted key (it is unsigned); ${fix}` };
  const key = trusted.find((k) => k.id === sig.key);
  if (!key)
    return {
      ok: false,
      keyId: sig.key,
      reason: `spec not signed by a trusted key (key id ${sig.key} is not among this node's trustedKeys); ${fix}`,
    };
  let good = false;
  try {
    good = cryptoVerify(
      null,
      Buffer.from(signedPayload(value)),
      key.publicKey,
      Buffer.from(sig.sig, 'base64'),
    );
  } catch {
    good = false;
  }
  if (!good)
    return {
      ok: false,
      keyId: sig.key,
      reason: `spec not signed by a trusted key (the signature of key id ${sig.key} does not match the spec: it was changed after signing); ${fix}`,
    };
  return { ok: true, keyId: sig.key };
}

/** The signing key id of a stored value, if it carries a signature (unchecked: for display). */
export function signatureKeyId(value: unknown): string | undefined {
  const sig = (value as StoredJob | null)?.signature;
  return sig && typeof sig.key === 'string' ? sig.key : undefined;
}

// ---- key files -----------------------------------------------------------------

export class KeyFileError extends Error {}

/** Writes a new key pair: `path` (private, PKCS#8 PEM, mode 0600) and `path.pub` (one line). */
export function generateKeyFiles(path: string): { id: string; publicKey: string; pubPath: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  // 'wx': never overwrite an existing key (a lost private key cannot be recovered).
  try {
    writeFileSync(path, pem, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      throw new KeyFileError(`${path} exists; choose another name (keys are never overwritten)`);
    throw new KeyFileError(`cannot write ${path}: ${(err as Error).message}`);
  }
  const text = publicKeyText(publicKey);
  writeFileSync(`${path}.pub`, `${text}\n`, { mode: 0o644 });
  return { id: keyIdOf(publicKey), publicKey: text, pubPath: `${path}.pub` };
}

/** Reads a private key file written by `keys generate` (or any Ed25519 PKCS#8 PEM). */
export function readSigningKey(path: string): SigningKey {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new KeyFileError(`cannot read signing key ${path}: ${(err as Error).message}`);
  }
  const mode = statSync(path).mode & 0o077;
  if (mode !== 0)
    throw new KeyFileError(
      `signing key ${path} is readable by other users (mode ${(statSync(path).mode & 0o777).toString(8)}); chmod 600 ${path}`,
    );
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(text);
  } catch (err) {
    throw new KeyFileError(
      `${path} is not a private key (${(err as Error).message.split('\n')[0]}); make one with \`peppercorn keys generate\``,
    );
  }
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new KeyFileError(`${path} is a ${privateKey.asymmetricKeyType} key; signing keys are Ed25519`);
  return { id: keyIdOf(createPublicKey(privateKey)), privateKey };
}

/** A public key from its text: base64 of the raw 32 bytes or of the SPKI DER, or a PEM. */
export function parsePublicKey(text: string, source: string): TrustedKey {
  const t = text.trim();
  let publicKey: KeyObject;
  try {
    if (t.startsWith('-----BEGIN')) publicKey = createPublicKey(t);
    else {
      const bytes = Buffer.from(t, 'base64');
      const der = bytes.length === 32 ? Buffer.concat([SPKI_ED25519_HEADER, bytes]) : bytes;
      publicKey = createPublicKey({ key: der, format: 'der', type: 'spki' });
    }
  } catch {
    throw new KeyFileError(
      `${source}: not an Ed25519 public key; use the .pub file written by \`peppercorn keys generate\` or its one-line contents`,
    );
  }
  if (publicKey.asymmetricKeyType !== 'ed25519')
    throw new KeyFileError(`${source}: a ${publicKey.asymmetricKeyType} key; trusted keys are Ed25519`);
  return { id: keyIdOf(publicKey), publicKey, source };
}

/**
 * The agent's trustedKeys: each entry a public key file (absolute or relative path) or the
 * one-line base64 text of a key. Anything unreadable is an error: a node must not start
 * trusting less (or more) than its operator wrote.
 */
export function loadTrustedKeys(entries: string[]): TrustedKey[] {
  return entries.map((entry) => {
    const looksInline = /^[A-Za-z0-9+/]{40,}={0,2}$/.test(entry.trim());
    if (looksInline) return parsePublicKey(entry, `trusted key ${entry.slice(0, 12)}…`);
    let text: string;
    try {
      text = readFileSync(entry, 'utf8');
    } catch (err) {
      throw new KeyFileError(
        `trustedKeys: cannot read ${entry} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); give a .pub file or the key's base64 text`,
      );
    }
    return parsePublicKey(text, entry);
  });
}
