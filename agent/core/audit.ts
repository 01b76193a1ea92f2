// The audit trail: who changed a job (or the alerting config), when, and what. One etcd value
// per job (`audit/jobs/<job>`, and `audit/alerting`) holding the latest AUDIT_KEEP entries,
// written in the same transaction as the change it describes, so a change without its entry
// (or an entry without its change) cannot exist. A job's trail outlives the job: its deletion
// is the last entry, and a re-created job continues it.
//
// Who is what the writer says it is: the etcd user it authenticated as (etcd checked the
// password), the OS user and host it runs as, and the signing key id of the spec. With the
// role layout in the README only operators can write `audit/`; an operator could still write
// a false entry by hand, so the trail is a record of honest tools, not a proof.
import { hostname, userInfo } from 'node:os';
import type { IOperation, Namespace } from 'etcd3';
import { keys } from './keys';

export const AUDIT_KEEP = 50;
/** Each value in a diff is cut to this many characters: a trail of 50 stays small. */
const VALUE_CHARS = 300;

export type AuditAction = 'created' | 'updated' | 'deleted' | 'paused' | 'resumed' | 'replaced';

export interface Actor {
  /** The etcd user, null when etcd has no authentication. */
  etcdUser: string | null;
  osUser: string;
  host: string;
}

export interface FieldChange {
  /** A dotted path: `command`, `env.TOKEN`, `channels.ops.url`. */
  field: string;
  /** JSON text of the value before and after; absent when the field did not exist. */
  before?: string;
  after?: string;
}

export interface AuditEntry extends Actor {
  at: number;
  action: AuditAction;
  /** The key id that signed the new spec (null: unsigned; absent for deletions and the alerting config). */
  keyId?: string | null;
  changes: FieldChange[];
}

export interface AuditTrail {
  entries: AuditEntry[];
}

/** Who this process is, for the trail. */
export function currentActor(etcdUser: string | null): Actor {
  let osUser: string;
  try {
    osUser = userInfo().username;
  } catch {
    osUser = process.env.USER ?? `uid ${process.getuid?.() ?? '?'}`;
  }
  return { etcdUser, osUser, host: hostname() };
}

function flatten(value: unknown, path: string, out: Map<string, string>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>))
      if (v !== undefined) flatten(v, path ? `${path}.${k}` : k, out);
    return;
  }
  const text = JSON.stringify(value);
  out.set(path, text.length > VALUE_CHARS ? `${text.slice(0, VALUE_CHARS)}…` : text);
}

/** Field-by-field changes between two values (maps are compared leaf by leaf, lists as a whole). */
export function diffValues(
  before: object | undefined,
  after: object | undefined,
  ignore: string[] = [],
): FieldChange[] {
  const a = new Map<string, string>();
  const b = new Map<string, string>();
  if (before) flatten(before, '', a);
  if (after) flatten(after, '', b);
  const fields = [...new Set([...a.keys(), ...b.keys()])].filter(
    (f) => !ignore.some((i) => f === i || f.startsWith(`${i}.`)),
  );
  const out: FieldChange[] = [];
  for (const field of fields.sort()) {
    const x = a.get(field);
    const y = b.get(field);
    if (x === y) continue;
    out.push({ field, ...(x !== undefined ? { before: x } : {}), ...(y !== undefined ? { after: y } : {}) });
  }
  return out;
}

/** The trail with `entry` added, oldest dropped beyond AUDIT_KEEP. A corrupt trail starts over. */
export function appendEntry(stored: Uint8Array | undefined, entry: AuditEntry): AuditTrail {
  return { entries: [...decodeTrail(stored), entry].slice(-AUDIT_KEEP) };
}

export function decodeTrail(stored: Uint8Array | string | undefined): AuditEntry[] {
  if (!stored) return [];
  try {
    const t = JSON.parse(
      typeof stored === 'string' ? stored : new TextDecoder().decode(stored),
    ) as AuditTrail;
    return Array.isArray(t?.entries) ? t.entries : [];
  } catch {
    return [];
  }
}

/** A trail as read for a transaction: its value and mod revision (0 when absent). */
export interface TrailRead {
  key: string;
  value: Uint8Array | undefined;
  modRevision: number;
}

export async function readTrail(ns: Namespace, key: string): Promise<TrailRead> {
  const kv = (await ns.get(key).exec()).kvs[0];
  return { key, value: kv?.value, modRevision: kv ? Number(kv.mod_revision) : 0 };
}

/** The put that appends `entry` to a trail read earlier (compare the read's mod revision in the same txn). */
export function appendOp(ns: Namespace, read: TrailRead, entry: AuditEntry): IOperation {
  return ns.put(read.key).value(JSON.stringify(appendEntry(read.value, entry)));
}

/** A job's trail, newest first. */
export async function jobHistory(ns: Namespace, job: string): Promise<AuditEntry[]> {
  const read = await readTrail(ns, keys.jobAudit(job));
  return decodeTrail(read.value).reverse();
}
