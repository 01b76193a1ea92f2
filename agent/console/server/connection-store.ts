// Saved clusters. Passwords stay here: the renderer gets `hasPassword`, never the secret.
// At rest, secrets go through a SecretCodec (Electron's safeStorage in the desktop app);
// without one (the web console) nothing is written to disk. Without an OS keyring a password
// is written only in clear text, and only when the user said yes to that (storagePolicy).
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ConnectionInput, ConnectionList, ConnectionProfile } from '../contract';
import type { ConnectOptions } from '../../core/etcd';
import { normalizePrefix } from '../../core/keys';
import { privateKeyText, signingKeyFromText, type SigningKey } from './signing-keys';

export interface SecretCodec {
  /** False when the OS offers no encryption at all (safeStorage.isEncryptionAvailable()). */
  available(): boolean;
  /** Linux: safeStorage.getSelectedStorageBackend(); elsewhere absent. */
  backend?(): string;
  encrypt(plain: string): string;
  decrypt(stored: string): string;
}

export interface StoragePolicy {
  /** keyring: encrypted at rest; clear-text: only with the user's yes; memory: never written. */
  mode: 'keyring' | 'clear-text' | 'memory';
  note: string;
}

/**
 * Where a saved password would end up. On Linux, safeStorage reports encryption as available
 * even with no keyring: its 'basic_text' backend encrypts with a key built into Chromium, which
 * protects nothing, so it counts as no keyring ('unknown' means it could not tell: the same).
 */
export function storagePolicy(codec: SecretCodec | undefined, persisted: boolean): StoragePolicy {
  if (!persisted)
    return {
      mode: 'memory',
      note: 'Web console: clusters added here are kept in memory for this session only.',
    };
  const backend = codec?.backend?.();
  if (codec?.available() && backend !== 'basic_text' && backend !== 'unknown')
    return { mode: 'keyring', note: 'Passwords are encrypted with the operating system keyring.' };
  const why = !codec?.available()
    ? 'this system offers no encryption for saved secrets'
    : `no keyring was found (storage backend "${backend}")`;
  return {
    mode: 'clear-text',
    note:
      `No OS keyring: ${why}. A password saved here would be written in clear text to this ` +
      'computer (readable by anything running as you). Leave the password empty, or confirm ' +
      'to store it anyway. To encrypt it, install and unlock a keyring (GNOME Keyring, KWallet) and restart.',
  };
}

/** Thrown by save() when a password would be written in clear text without the user's yes. */
export class ClearTextRefused extends Error {}

interface Stored extends Omit<ConnectionProfile, 'hasPassword'> {
  password?: string;
  /** The signing key (PKCS#8 PEM): a secret, kept like the password. */
  signingKey?: string;
  /** The user agreed to keep this profile's password in clear text (no keyring). */
  clearText?: boolean;
}

/** On disk: `password` encrypted by the codec, or `passwordClearText` with the user's yes. */
interface OnDisk extends Omit<Stored, 'password' | 'signingKey'> {
  password?: string;
  passwordClearText?: string;
  signingKey?: string;
  signingKeyClearText?: string;
}

export interface ConnectionStoreOptions {
  /** JSON file to persist profiles in; none keeps them in memory only. */
  file?: string;
  codec?: SecretCodec;
}

export class ConnectionStore {
  private readonly profiles = new Map<string, Stored>();
  activeId: string | null = null;

  constructor(private readonly opts: ConnectionStoreOptions = {}) {
    this.load();
  }

  get policy(): StoragePolicy {
    return storagePolicy(this.opts.codec, !!this.opts.file);
  }

  list(): ConnectionList {
    const policy = this.policy;
    return {
      profiles: [...this.profiles.values()].map(publicView),
      activeId: this.activeId,
      secureStorage: policy.mode === 'keyring',
      storageNote: policy.note,
      clearTextWarning: policy.mode === 'clear-text' ? policy.note : undefined,
    };
  }

  /**
   * Adds or updates a profile; an absent password keeps the stored one. Without a keyring, a
   * new password is refused unless `input.storeInClearText` says the user agreed.
   */
  save(input: ConnectionInput): ConnectionProfile {
    const id = input.id && this.profiles.has(input.id) ? input.id : randomUUID();
    const old = this.profiles.get(id);
    const kept = this.keptPassword(input, old);
    const newPassword = !!input.password;
    if (newPassword && this.policy.mode === 'clear-text' && !input.storeInClearText)
      throw new ClearTextRefused(
        'not saved: there is no OS keyring, so the password would be written in clear text; ' +
          'confirm storing it in clear text, or leave the password empty',
      );
    // Read here, where the services run: the renderer names a file, never sends a key.
    const newKey = input.signingKeyFile ? privateKeyText(input.signingKeyFile) : undefined;
    if (newKey && this.policy.mode === 'clear-text' && !input.storeInClearText)
      throw new ClearTextRefused(
        'not saved: there is no OS keyring, so the signing key would be written in clear text; ' +
          'confirm storing it in clear text, or leave the signing key out',
      );
    const stored: Stored = {
      id,
      name: input.name.trim() || input.endpoints.join(','),
      endpoints: input.endpoints.map((e) => e.trim()).filter(Boolean),
      prefix: normalizePrefix(input.prefix),
      user: input.user || undefined,
      password: input.password === undefined ? kept : input.password || undefined,
      clearText: newPassword || newKey ? !!input.storeInClearText : old?.clearText,
      signingKey: input.signingKeyFile === undefined ? old?.signingKey : newKey?.pem,
      signingKeyId: input.signingKeyFile === undefined ? old?.signingKeyId : newKey?.id,
      cacert: input.cacert || undefined,
      cert: input.cert || undefined,
      key: input.key || undefined,
    };
    this.profiles.set(id, stored);
    this.persist();
    return publicView(stored);
  }

  remove(id: string): void {
    this.profiles.delete(id);
    if (this.activeId === id) this.activeId = null;
    this.persist();
  }

  get(id: string): ConnectionProfile | undefined {
    const p = this.profiles.get(id);
    return p && publicView(p);
  }

  /** The options to connect with, secrets included: for the services only. */
  connectOptions(id: string): ConnectOptions {
    const p = this.profiles.get(id);
    if (!p) throw new Error('no such saved cluster; it may have been removed');
    return optionsOf(p);
  }

  /** The signing key kept for a saved cluster, if any: for the services only. */
  signingKey(id: string): SigningKey | undefined {
    const pem = this.profiles.get(id)?.signingKey;
    return pem ? signingKeyFromText(pem) : undefined;
  }

  /** Options for a profile being edited: an absent password falls back to the stored one (same endpoints only). */
  optionsFor(input: ConnectionInput): ConnectOptions {
    const old = input.id ? this.profiles.get(input.id) : undefined;
    return optionsOf({
      endpoints: input.endpoints.map((e) => e.trim()).filter(Boolean),
      prefix: input.prefix,
      user: input.user,
      password: input.password ?? this.keptPassword(input, old),
      cacert: input.cacert,
      cert: input.cert,
      key: input.key,
    });
  }

  /**
   * The stored password, for an input that gives none. A saved password is only ever sent to the
   * endpoints it was saved with: reusing it for new endpoints would hand it to whatever listens there
   * (a typo, or a host someone else controls). Throws PasswordNotReused saying what to do.
   */
  private keptPassword(input: ConnectionInput, old: Stored | undefined): string | undefined {
    if (input.password !== undefined || !old?.password) return undefined;
    const now = input.endpoints.map((e) => e.trim()).filter(Boolean);
    if (sameEndpoints(now, old.endpoints)) return old.password;
    throw new PasswordNotReused(
      `the saved password of "${old.name}" is only sent to the endpoints it was saved with ` +
        `(${old.endpoints.join(', ')}), not to ${now.join(', ') || 'no endpoint'}; ` +
        'enter the password again for the new endpoints (or an empty one to connect without)',
    );
  }

  private load(): void {
    if (!this.opts.file) return;
    let data: { profiles?: OnDisk[]; activeId?: string | null };
    try {
      data = JSON.parse(readFileSync(this.opts.file, 'utf8'));
    } catch {
      return;
    }
    const open = (sealed: string | undefined, clear: string | undefined): string | undefined => {
      if (sealed && this.opts.codec?.available()) {
        try {
          return this.opts.codec.decrypt(sealed);
        } catch {
          return undefined;
        }
      }
      return clear;
    };
    for (const { passwordClearText, signingKeyClearText, ...p } of data.profiles ?? []) {
      const password = open(p.password, passwordClearText);
      const signingKey = open(p.signingKey, signingKeyClearText);
      this.profiles.set(p.id, {
        ...p,
        password,
        signingKey,
        signingKeyId: signingKey ? p.signingKeyId : undefined,
      });
    }
    this.activeId = data.activeId ?? null;
  }

  persist(): void {
    if (!this.opts.file) return;
    const codec = this.opts.codec;
    const keyring = this.policy.mode === 'keyring';
    const profiles = [...this.profiles.values()].map(({ password, signingKey, ...p }): OnDisk => {
      const out: OnDisk = { ...p };
      // In clear text only with the user's yes; otherwise a secret lives in memory until the app quits.
      if (password && keyring) out.password = codec!.encrypt(password);
      else if (password && p.clearText) out.passwordClearText = password;
      if (signingKey && keyring) out.signingKey = codec!.encrypt(signingKey);
      else if (signingKey && p.clearText) out.signingKeyClearText = signingKey;
      else if (signingKey) delete out.signingKeyId;
      return out;
    });
    mkdirSync(dirname(this.opts.file), { recursive: true });
    const tmp = `${this.opts.file}.tmp`;
    writeFileSync(tmp, JSON.stringify({ profiles, activeId: this.activeId }, null, 2), { mode: 0o600 });
    renameSync(tmp, this.opts.file);
  }
}

/** Thrown when a saved password would go to endpoints other than those it was saved with. */
export class PasswordNotReused extends Error {}

function sameEndpoints(a: string[], b: string[]): boolean {
  const norm = (l: string[]) => [...new Set(l.map((e) => e.trim().replace(/\/+$/, '').toLowerCase()))].sort();
  const x = norm(a);
  const y = norm(b);
  return x.length === y.length && x.every((e, i) => e === y[i]);
}

function optionsOf(p: Omit<Stored, 'id' | 'name'>): ConnectOptions {
  return {
    endpoints: p.endpoints,
    prefix: p.prefix,
    user: p.user || undefined,
    password: p.password,
    cacert: p.cacert || undefined,
    cert: p.cert || undefined,
    key: p.key || undefined,
    callTimeoutMs: 3000,
  };
}

function publicView(p: Stored): ConnectionProfile {
  const { password, clearText, ...rest } = p;
  delete rest.signingKey; // a secret, like the password
  return { ...rest, hasPassword: !!password, passwordInClearText: !!password && !!clearText };
}
