// A live in-memory copy of one key prefix: list, then watch from the next
// revision. Any watcher error (a compacted revision surfaces as a bare `error`)
// or a stalled stream is handled the same way: list again, then watch again.
// Readers get `change` events and read `entries`; one mirror can serve many views.
// A prefix too large to hold (the run history) is mirrored into a fold instead of `entries`:
// listed page by page at one revision, watched with previous values.
import { EventEmitter } from 'node:events';
import type { Namespace, Watcher, IKeyValue } from 'etcd3';
import { withTimeout } from './etcd';

const WATCH_CREATE_TIMEOUT_MS = 5000;

export interface Entry {
  key: string;
  value: Buffer;
  createRevision: number;
  modRevision: number;
  lease: string;
}

export interface MirrorOptions {
  /** Re-list this often even without errors, to survive a silently stalled watch (0: never). */
  resyncMs?: number;
  onError?: (err: Error) => void;
  /** Keep a digest instead of every entry: `entries` stays empty. */
  fold?: MirrorFold;
  /** With `fold`: entries per read while listing (all of them at one revision). */
  pageSize?: number;
}

/**
 * What a mirror that does not keep its entries does with them. A list starts a new digest
 * (`list()`), is given every entry at one revision, and replaces the old digest when `done`; a
 * watched change is folded into the current one, with the value it replaced.
 */
export interface MirrorFold {
  list(): { add(entry: Entry): void; done(): void };
  put(entry: Entry, prev: Buffer | undefined): void;
  delete(key: string): void;
}

export function toEntry(kv: IKeyValue): Entry {
  return {
    key: kv.key.toString(),
    value: kv.value,
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
    lease: String(kv.lease),
  };
}

export class PrefixMirror extends EventEmitter {
  readonly entries = new Map<string, Entry>();
  /** The revision the mirror is known to be current at. */
  revision = 0;
  private watcher: Watcher | undefined;
  private closed = false;
  private started = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private backoffMs = 250;
  private syncing: Promise<void> | undefined;

  constructor(
    private readonly ns: Namespace,
    readonly prefix: string,
    private readonly opts: MirrorOptions = {},
  ) {
    super();
  }

  /** Resolves after the first successful list; keeps retrying until then. */
  start(): Promise<void> {
    if (this.started) return this.sync(); // started before (a leader elected again)
    this.started = true;
    return new Promise((resolve) => {
      this.once('synced', resolve);
      void this.sync();
      const resyncMs = this.opts.resyncMs ?? 30_000;
      if (resyncMs > 0) {
        this.resyncTimer = setInterval(() => void this.sync(), resyncMs);
        this.resyncTimer.unref();
      }
    });
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.resyncTimer);
    void this.watcher?.cancel().catch(() => undefined);
    this.watcher = undefined;
  }

  /** Re-list now (e.g. after our own write, or when a reader suspects staleness). */
  sync(): Promise<void> {
    if (!this.syncing) {
      this.syncing = this.relist().finally(() => (this.syncing = undefined));
    }
    return this.syncing;
  }

  private async relist(): Promise<void> {
    if (this.closed) return;
    const old = this.watcher;
    this.watcher = undefined;
    if (old) void old.cancel().catch(() => undefined);
    try {
      const rev = this.opts.fold ? await this.listInto(this.opts.fold) : await this.listEntries();
      if (rev === undefined) return;
      this.revision = rev;
      // Readers see the fresh list at once, whatever the watch takes to establish.
      this.emit('change', null);
      await this.watchFrom(rev + 1);
      this.backoffMs = 250;
      this.emit('synced');
    } catch (err) {
      this.fail(err as Error);
    }
  }

  /** Lists the prefix into `entries`; the revision listed at, undefined when closed meanwhile. */
  private async listEntries(): Promise<number | undefined> {
    const res = await this.ns.getAll().prefix(this.prefix).exec();
    if (this.closed) return undefined;
    this.entries.clear();
    for (const kv of res.kvs) {
      const e = toEntry(kv);
      this.entries.set(e.key, e);
    }
    return Number(res.header.revision);
  }

  /** Lists the prefix page by page at one revision into a new digest of `fold`. */
  private async listInto(fold: MirrorFold): Promise<number | undefined> {
    const end = prefixEnd(this.prefix);
    const digest = fold.list();
    let start = this.prefix;
    let rev = 0;
    for (;;) {
      let q = this.ns.getAll().inRange({ start, end });
      if (this.opts.pageSize) q = q.limit(this.opts.pageSize);
      if (rev) q = q.revision(rev);
      const res = await q.exec();
      if (this.closed) return undefined;
      if (!rev) rev = Number(res.header.revision);
      for (const kv of res.kvs) digest.add(toEntry(kv));
      if (!res.more || res.kvs.length === 0) break;
      start = res.kvs[res.kvs.length - 1].key.toString() + '\0';
    }
    digest.done();
    return rev;
  }

  private async watchFrom(rev: number): Promise<void> {
    // Creating a watch has no deadline in etcd3 (it is a stream): against a flapping etcd it
    // can hang, and with it every later re-list. Bounded, then retried like any watch error.
    const fold = this.opts.fold;
    let builder = this.ns.watch().prefix(this.prefix).startRevision(String(rev));
    if (fold) builder = builder.withPreviousKV();
    const creating = builder.create();
    let w: Watcher;
    try {
      w = await withTimeout(creating, WATCH_CREATE_TIMEOUT_MS, `watching ${this.prefix}`);
    } catch (err) {
      void creating.then((late) => late.cancel()).catch(() => undefined);
      throw err;
    }
    if (this.closed) {
      void w.cancel();
      return;
    }
    this.watcher = w;
    w.on('error', (err) => {
      if (this.watcher === w) this.fail(err);
    });
    w.on('data', (res) => {
      if (this.watcher !== w) return;
      const changed: string[] = [];
      for (const ev of res.events) {
        const e = toEntry(ev.kv);
        if (fold) {
          if (ev.type === 'Delete') fold.delete(e.key);
          else fold.put(e, ev.prev_kv?.value);
        } else if (ev.type === 'Delete') this.entries.delete(e.key);
        else this.entries.set(e.key, e);
        changed.push(e.key);
      }
      this.revision = Math.max(this.revision, Number(res.header.revision));
      if (changed.length) this.emit('change', changed);
    });
  }

  private fail(err: Error): void {
    if (this.closed) return;
    this.opts.onError?.(err);
    const old = this.watcher;
    this.watcher = undefined;
    if (old) void old.cancel().catch(() => undefined);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.sync(), this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, 5000);
  }
}

/** The first key after every key that starts with `prefix`. */
function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}
