// The contract's connections: the saved clusters and the one the console is connected to.
// Secrets go one way: a password or key file is sent to be kept, never sent back.
import type { ArgType } from './args';

export type ConnectionState = 'connecting' | 'connected' | 'unreachable';

export interface ConnectionStatus {
  state: ConnectionState;
  profileId: string | null;
  name: string;
  endpoints: string[];
  prefix: string;
  /** Readable reason when unreachable. */
  error?: string;
  since: number;
}

/** What the renderer sends to save a cluster; secrets go one way only. */
export interface ConnectionInput {
  id?: string;
  name: string;
  endpoints: string[];
  prefix: string;
  user?: string;
  /** Absent: keep the stored password. Empty string: clear it. */
  password?: string;
  cacert?: string;
  cert?: string;
  key?: string;
  /** The user agreed to store the password in clear text (there is no OS keyring). */
  storeInClearText?: boolean;
  /**
   * A signing key file (`peppercorn keys generate`) on the machine running the services: read
   * there and kept like the password (safeStorage); specs applied on this cluster are signed
   * with it. Absent: keep the stored key. Empty string: forget it.
   */
  signingKeyFile?: string;
}

/** What the renderer gets back: never the password. */
export interface ConnectionProfile {
  id: string;
  name: string;
  endpoints: string[];
  prefix: string;
  user?: string;
  hasPassword: boolean;
  /** Saved without a keyring, in clear text, because the user said yes. */
  passwordInClearText?: boolean;
  /** Key id of the signing key kept for this cluster (the key itself never leaves the services). */
  signingKeyId?: string;
  cacert?: string;
  cert?: string;
  key?: string;
}

export interface ConnectionList {
  profiles: ConnectionProfile[];
  activeId: string | null;
  /** False when credentials cannot be encrypted at rest (no OS keyring, or the web console). */
  secureStorage: boolean;
  storageNote: string;
  /** Set when a saved password would be written in clear text: saving one needs the user's yes. */
  clearTextWarning?: string;
}

export interface ConnectionCalls {
  'connection.status': () => ConnectionStatus;
  'connection.list': () => ConnectionList;
  'connection.save': (input: ConnectionInput) => ConnectionProfile;
  'connection.remove': (id: string) => void;
  'connection.test': (input: ConnectionInput) => { ok: boolean; message: string };
  'connection.use': (id: string) => ConnectionStatus;
}

export const connectionCallArgs: { [K in keyof ConnectionCalls]: ArgType[] } = {
  'connection.status': [],
  'connection.list': [],
  'connection.save': ['connection'],
  'connection.remove': ['string'],
  'connection.test': ['connection'],
  'connection.use': ['string'],
};
