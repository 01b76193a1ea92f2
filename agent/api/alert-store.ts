// What the CLI and the console do with alerts: list them, read and replace the
// alerting config, resolve one by hand. Delivery itself is the leader's (agent/alert).
import type { Cluster } from '../core/etcd';
import { keys } from '../core/keys';
import { decode, decodeOr, encode, type AlertRecord, type CorruptValueError } from '../core/records';
import { EMPTY_CONFIG, decodeAlerting, resolveAlert, type AlertingConfig } from '../core/alerting';
import { NotFoundError } from './store';
import { appendOp, currentActor, diffValues, readTrail, type Actor } from '../core/audit';

export async function listAlerts(
  cluster: Cluster,
  opts: { open?: boolean; limit?: number },
  warn: (err: CorruptValueError) => void,
): Promise<AlertRecord[]> {
  const res = await cluster.ns.getAll().prefix(keys.alerts).exec();
  const out: AlertRecord[] = [];
  for (const kv of res.kvs) {
    const a = decodeOr<AlertRecord>('alert', kv.key.toString(), kv.value, warn);
    if (a && (!opts.open || a.state === 'open')) out.push(a);
  }
  // Open first, then newest first.
  out.sort((x, y) => (x.state === y.state ? y.openedAt - x.openedAt : x.state === 'open' ? -1 : 1));
  return opts.limit ? out.slice(0, opts.limit) : out;
}

/** The stored config, or the built-in one when none was applied. Throws on a corrupt value, saying how to fix it. */
export async function getAlerting(cluster: Cluster): Promise<{ config: AlertingConfig; stored: boolean }> {
  const kv = (await cluster.ns.get(keys.alerting).exec()).kvs[0];
  if (!kv) return { config: EMPTY_CONFIG, stored: false };
  const res = decodeAlerting(kv.value);
  if (!res.ok)
    throw new Error(
      `corrupt value at ${keys.alerting}: ${res.problem}; apply a good config with peppercorn alerts config apply FILE`,
    );
  return { config: res.config, stored: true };
}

/** Replaces the config, recording who did it and what changed in its audit trail (same write). */
export async function setAlerting(
  cluster: Cluster,
  config: AlertingConfig,
  actor: Actor = currentActor(cluster.user),
): Promise<void> {
  const { ns } = cluster;
  for (let attempt = 0; attempt < 5; attempt++) {
    const [kv, trail] = await Promise.all([ns.get(keys.alerting).exec(), readTrail(ns, keys.alertingAudit)]);
    const cur = kv.kvs[0];
    let before: object | undefined;
    try {
      before = cur ? (JSON.parse(cur.value.toString()) as object) : undefined;
    } catch {
      before = { corrupt: cur!.value.toString().slice(0, 100) };
    }
    const entry = {
      at: Date.now(),
      action: cur ? ('replaced' as const) : ('created' as const),
      ...actor,
      changes: diffValues(before, config),
    };
    const res = await ns
      .if(keys.alerting, 'Mod', '==', cur ? Number(cur.mod_revision) : 0)
      .and(trail.key, 'Mod', '==', trail.modRevision)
      .then(ns.put(keys.alerting).value(encode(config)), appendOp(ns, trail, entry))
      .commit();
    if (res.succeeded) return;
  }
  throw new Error('the alerting config kept changing while applying it; try again');
}

/**
 * An operator's resolve (e.g. the node-down alert of a machine retired for good). The
 * leader sends its resolution notices. Compared on the mod revision, so a concurrent
 * delivery update is not overwritten.
 */
export async function resolveAlertByHand(cluster: Cluster, id: string, why: string): Promise<AlertRecord> {
  const key = keys.alert(id);
  for (let attempt = 0; attempt < 5; attempt++) {
    const kv = (await cluster.ns.get(key).exec()).kvs[0];
    if (!kv) throw new NotFoundError(`no alert "${id}"; see \`peppercorn alerts --all\``);
    const a = decode<AlertRecord>('alert', key, kv.value);
    if (a.state === 'resolved') return a;
    const next = resolveAlert(a, why, Date.now());
    const res = await cluster.ns
      .if(key, 'Mod', '==', Number(kv.mod_revision))
      .then(cluster.ns.put(key).value(encode(next)))
      .commit();
    if (res.succeeded) return next;
  }
  throw new Error(`alert "${id}" kept changing while resolving it; try again`);
}
