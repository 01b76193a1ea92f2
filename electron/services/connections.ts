// Saved clusters. Passwords stay here: the renderer gets `hasPassword`, never the secret.
// At rest, secrets go through a SecretCodec (Electron's safeStorage in the desktop app);
// without one (the web console) nothing is written to disk.
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ConnectionInput, ConnectionList, ConnectionProfile } from '../common/contract';
import type { ConnectOptions } from '../../agent/core/etcd';
import { normalizePrefix } from '../../agent/core/keys';

export interface SecretCodec {
  /** False when the OS offers no keyring: secrets would be stored in the clear. */
  available(): boolean;
  encrypt(plain: string): string;
  decrypt(stored: string): string;
}

interface Stored extends Omit<ConnectionProfile, 'hasPassword'> {
  password?: string;
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

  list(): ConnectionList {
    const secure = !!this.opts.codec?.available();
    return {
      profiles: [...this.profiles.values()].map(publicView),
      activeId: this.activeId,
      secureStorage: secure,
      storageNote: !this.opts.file
        ? 'Web console: clusters added here are kept in memory for this session only.'
        : secure
          ? 'Passwords are encrypted with the operating system keyring.'
          : 'No OS keyring is available: passwords are not saved; you will be asked again.',
    };
  }

  /** Adds or updates a profile; an absent password keeps the stored one. */
  save(input: ConnectionInput): ConnectionProfile {
    const id = input.id && this.profiles.has(input.id) ? input.id : randomUUID();
    const old = this.profiles.get(id);
    const stored: Stored = {
      id,
      name: input.name.trim() || input.endpoints.join(','),
      endpoints: input.endpoints.map((e) => e.trim()).filter(Boolean),
      prefix: normalizePrefix(input.prefix),
      user: input.user || undefined,
      password: input.password === undefined ? old?.password : input.password || undefined,
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

  /** Options for a profile being edited: an absent password falls back to the stored one. */
  optionsFor(input: ConnectionInput): ConnectOptions {
    const old = input.id ? this.profiles.get(input.id) : undefined;
    return optionsOf({
      endpoints: input.endpoints.map((e) => e.trim()).filter(Boolean),
      prefix: input.prefix,
      user: input.user,
      password: input.password ?? old?.password,
      cacert: input.cacert,
      cert: input.cert,
      key: input.key,
    });
  }

  private load(): void {
    if (!this.opts.file) return;
    let data: { profiles?: Stored[]; activeId?: string | null };
    try {
      data = JSON.parse(readFileSync(this.opts.file, 'utf8'));
    } catch {
      return;
    }
    for (const p of data.profiles ?? []) {
      let password: string | undefined;
      if (p.password && this.opts.codec?.available()) {
        try {
          password = this.opts.codec.decrypt(p.password);
        } catch {
          password = undefined;
        }
      }
      this.profiles.set(p.id, { ...p, password });
    }
    this.activeId = data.activeId ?? null;
  }

  persist(): void {
    if (!this.opts.file) return;
    const codec = this.opts.codec;
    const secure = !!codec?.available();
    const profiles = [...this.profiles.values()].map((p) => ({
      ...p,
      // Never write a password in the clear.
      password: p.password && secure ? codec!.encrypt(p.password) : undefined,
    }));
    mkdirSync(dirname(this.opts.file), { recursive: true });
    const tmp = `${this.opts.file}.tmp`;
    writeFileSync(tmp, JSON.stringify({ profiles, activeId: this.activeId }, null, 2), { mode: 0o600 });
    renameSync(tmp, this.opts.file);
  }
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
  const { password, ...rest } = p;
  return { ...rest, hasPassword: !!password };
}
