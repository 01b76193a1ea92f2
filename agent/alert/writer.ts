// The leader's writes to alert records: read, change, write back only if nobody
// wrote in between and we still lead. Delivery bookkeeping and resolution both go
// through here, so neither overwrites the other.
import type { IOperation } from 'etcd3';
import type { Cluster } from '../core/etcd';
import { keys } from '../core/keys';
import { decode, encode, type AlertRecord } from '../core/records';

/** What the alert code needs of the leader: whether it leads, and writes fenced by its leader key. */
export interface LeaderFence {
  readonly isLeader: boolean;
  readonly nodeId: string;
  /** One transaction, applied only while we lead and the given keys have these mod revisions (0: absent). */
  txn(ops: IOperation[], compares: [string, number][]): Promise<boolean>;
}

export class AlertWriter {
  constructor(
    private readonly cluster: Cluster,
    readonly fence: LeaderFence,
    private readonly log: (msg: string) => void,
  ) {}

  /**
   * Applies `change` to the stored alert; `change` returns null for "nothing to do".
   * Returns the record written, or null (no change, gone, corrupt, or no longer leader).
   */
  async update(id: string, change: (a: AlertRecord) => AlertRecord | null): Promise<AlertRecord | null> {
    const key = keys.alert(id);
    // Conflicts come from the same alert's other deliveries (one per channel) being recorded at once.
    for (let attempt = 0; attempt < 20 && this.fence.isLeader; attempt++) {
      const kv = (await this.cluster.ns.get(key).exec()).kvs[0];
      if (!kv) return null;
      let current: AlertRecord;
      try {
        current = decode<AlertRecord>('alert', key, kv.value);
      } catch (err) {
        this.log((err as Error).message);
        return null;
      }
      const next = change(current);
      if (!next) return null;
      const put = this.cluster.ns.put(key).value(encode(next));
      if (await this.fence.txn([put], [[key, Number(kv.mod_revision)]])) return next;
    }
    return null;
  }

  /** Creates the alert unless a record with its id exists (raised before, by us or a previous leader). */
  async create(alert: AlertRecord): Promise<boolean> {
    const key = keys.alert(alert.id);
    return this.fence.txn([this.cluster.ns.put(key).value(encode(alert))], [[key, 0]]);
  }

  async remove(id: string, modRevision: number): Promise<boolean> {
    const key = keys.alert(id);
    return this.fence.txn([this.cluster.ns.delete().key(key)], [[key, modRevision]]);
  }
}
