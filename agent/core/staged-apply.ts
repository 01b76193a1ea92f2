// A `job apply` larger than one etcd transaction, still all or nothing. Stock etcd takes
// 128 operations and 1.5 MiB per transaction; a file of 10,000 jobs needs ~30,000 writes.
//
//   1. lock: create `apply-lock` (state staging) bound to the writer's lease. Every other
//      job writer compares the lock absent in its own transaction, so nothing the apply
//      read can change under it (agents never write jobs; their cursor moves are merged).
//   2. read and plan under the lock; stage the writes as parts (`apply-parts/<id>/<n>`,
//      job/apply-parts.ts). A writer that dies here leaves nothing: its lease takes the
//      lock, and the next apply deletes the stray parts.
//   3. commit: one transaction turns the lock into `committed`, without a lease. From here
//      the apply is stored, whatever happens to the writer.
//   4. roll forward: each part in one transaction compared on the committed record; parts
//      are idempotent (fixed values, cursors merged forward), so two writers may roll the
//      same apply. The last transaction deletes the record and the parts.
// A committed apply whose writer died is rolled forward by the next operator write (any
// apply, rm, pause, resume, and `job ls`); agents cannot (they may not write jobs/).
import { randomUUID } from 'node:crypto';
import type { IOperation, Namespace } from 'etcd3';
import { keys } from './keys';
import { decodeOr, encode, type Cursor } from './records';
import type { StagedWrite } from './job/apply-parts';

export interface ApplyLockRecord {
  id: string;
  state: 'staging' | 'committed';
  /** Who applies (user@host), for the message other writers see while they wait. */
  by: string;
  at: number;
  /** The writer's lease (decimal id): once it is gone, a committed apply is anyone's to finish. */
  lease: string;
  parts?: number;
}

/** The writer's lease: a dead CLI's staging lock goes within this many seconds. */
const LOCK_TTL_SEC = 15;
/** How long another writer waits for an apply in progress before giving up. */
const WAIT_MS = 120_000;
/** Parts written (staged, or rolled forward) concurrently. */
const IN_FLIGHT = 4;
/** How long a removed job's cursor is kept (as `job rm` keeps it). */
const TOMBSTONE_SEC = 3600;

export class ApplyLockedError extends Error {}

async function inParallel<T>(items: T[], n: number, fn: (t: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i], i);
      }
    }),
  );
}

async function readLock(ns: Namespace): Promise<{ rec: ApplyLockRecord; rev: number } | undefined> {
  const kv = (await ns.get(keys.applyLock).exec()).kvs[0];
  if (!kv) return undefined;
  const rec = decodeOr<ApplyLockRecord>('applyLock', keys.applyLock, kv.value, () => undefined);
  // An unreadable lock blocks every job writer: say what to do rather than wait forever.
  if (!rec)
    throw new ApplyLockedError(
      `the apply lock (${keys.applyLock}) holds an unreadable value; delete that key with etcdctl and apply again`,
    );
  return { rec, rev: Number(kv.mod_revision) };
}

async function leaseAlive(ns: Namespace, id: string): Promise<boolean> {
  const res = await ns.leaseClient.leaseTimeToLive({ ID: id });
  return Number(res.TTL) > 0;
}

/**
 * Finishes an apply left committed by a writer that died; true when no apply is in
 * progress (any more). Safe to call from several writers at once.
 */
export async function finishLeftApply(ns: Namespace): Promise<boolean> {
  const lock = await readLock(ns);
  if (!lock) return true;
  if (lock.rec.state !== 'committed' || (await leaseAlive(ns, lock.rec.lease))) return false;
  try {
    await rollForward(ns, lock.rec, lock.rev);
  } catch (err) {
    throw new ApplyLockedError(`finishing it failed: ${(err as Error).message}`);
  }
  return true;
}

/** Waits until no apply holds the lock (finishing one left behind); for job writers whose txn found it. */
export async function waitForApply(ns: Namespace, deadline = Date.now() + WAIT_MS): Promise<void> {
  for (;;) {
    if (await finishLeftApply(ns)) return;
    if (Date.now() > deadline) {
      const lock = await readLock(ns);
      if (!lock) return;
      throw new ApplyLockedError(
        `another \`job apply\` (by ${lock.rec.by}, ${new Date(lock.rec.at).toISOString()}) is still in progress; try again when it ends`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface HeldApplyLock {
  id: string;
  /** Stages the parts, commits, and rolls forward; resolves when every part is stored. */
  store(parts: StagedWrite[][]): Promise<void>;
  /** Lets go of the lock (a staging lock goes with its lease; a committed one is finished first). */
  release(): Promise<void>;
}

/** Takes the apply lock, waiting for an apply in progress (and finishing one left behind). */
export async function acquireApplyLock(ns: Namespace, by: string): Promise<HeldApplyLock> {
  const lease = ns.lease(LOCK_TTL_SEC);
  lease.on('lost', () => undefined);
  const leaseId = String(await lease.grant());
  const id = randomUUID();
  const deadline = Date.now() + WAIT_MS;
  try {
    for (;;) {
      const rec: ApplyLockRecord = { id, state: 'staging', by, at: Date.now(), lease: leaseId };
      const res = await ns
        .if(keys.applyLock, 'Version', '==', 0)
        .then(ns.put(keys.applyLock).value(encode(rec)).lease(leaseId))
        .commit();
      if (res.succeeded) {
        // Parts left by writers that died before their commit: nobody else stages while we hold the lock.
        await ns.delete().prefix(keys.applyParts).exec();
        return held(ns, rec, Number(res.header.revision), () => lease.revoke().catch(() => undefined));
      }
      await waitForApply(ns, deadline);
    }
  } catch (err) {
    await lease.revoke().catch(() => undefined);
    throw err;
  }
}

function held(ns: Namespace, staging: ApplyLockRecord, stagingRev: number, revoke: () => Promise<unknown>) {
  let committed: { rec: ApplyLockRecord; rev: number } | undefined;
  return {
    id: staging.id,
    async store(parts: StagedWrite[][]): Promise<void> {
      await inParallel(parts, IN_FLIGHT, (part, n) =>
        ns
          .put(keys.applyPart(staging.id, n))
          .value(JSON.stringify(part))
          .exec()
          .then(() => undefined),
      );
      const rec: ApplyLockRecord = { ...staging, state: 'committed', at: Date.now(), parts: parts.length };
      const res = await ns
        .if(keys.applyLock, 'Mod', '==', stagingRev)
        .then(ns.put(keys.applyLock).value(encode(rec)))
        .commit();
      if (!res.succeeded)
        throw new Error(
          'lost the apply lock before committing (this process stalled past its lease?); nothing was stored: apply again',
        );
      committed = { rec, rev: Number(res.header.revision) };
      try {
        await rollForward(ns, rec, committed.rev, parts);
      } catch (err) {
        throw new Error(
          `the apply is committed but not all written yet (${(err as Error).message}); ` +
            'it will be stored whole: the next `peppercorn job ls` or job write finishes it',
        );
      }
    },
    async release(): Promise<void> {
      // A committed apply that failed to roll forward is finished once our lease is gone,
      // by the next writer; revoking the lease now lets that happen at once.
      await revoke();
    },
  } satisfies HeldApplyLock;
}

/** A cursor written by an apply, moved no further back than where a claim took it meanwhile. */
export function mergeCursor(staged: Cursor, current: Cursor | undefined): Cursor {
  if (!current) return staged;
  return {
    ...staged,
    t: Math.max(staged.t, current.t),
    ...(staged.n === 0 || current.n === undefined ? {} : { n: current.n }),
  };
}

/**
 * Writes every part of a committed apply, then deletes its record and parts. Resolves
 * when done, or when the record is gone (someone else finished it).
 */
export async function rollForward(
  ns: Namespace,
  rec: ApplyLockRecord,
  recRev: number,
  known?: StagedWrite[][],
): Promise<void> {
  // Parts are read one at a time: together they exceed what one response may carry (4 MiB).
  const partKeys = known
    ? known.map((_, n) => keys.applyPart(rec.id, n))
    : (await ns.getAll().prefix(keys.applyPartsOf(rec.id)).keys()).sort();
  if (partKeys.length !== rec.parts)
    throw new Error(
      `the staged apply ${rec.id} has ${partKeys.length} of its ${rec.parts} parts; delete ${keys.applyLock} and ${keys.applyPartsOf(rec.id)} with etcdctl and apply again`,
    );
  const readPart = async (n: number): Promise<StagedWrite[]> => {
    if (known) return known[n];
    const value = await ns.get(partKeys[n]).string();
    if (value === null) throw new Error(`staged part ${partKeys[n]} vanished; apply again`);
    return JSON.parse(value) as StagedWrite[];
  };
  let tombstoneLease: Promise<string> | undefined;
  const tombstones = () => {
    if (!tombstoneLease) {
      const lease = ns.lease(TOMBSTONE_SEC, { autoKeepAlive: false });
      lease.on('lost', () => undefined);
      tombstoneLease = lease.grant().then((id) => {
        lease.release();
        return String(id);
      });
    }
    return tombstoneLease;
  };
  let gone = false;
  await inParallel(partKeys, IN_FLIGHT, async (_, n) => {
    if (!gone && !(await rollPart(ns, await readPart(n), recRev, tombstones))) gone = true;
  });
  if (gone) return;
  await ns
    .if(keys.applyLock, 'Mod', '==', recRev)
    .then(ns.delete().key(keys.applyLock), ns.delete().prefix(keys.applyPartsOf(rec.id)))
    .commit();
}

/** One part in one transaction; false when the apply's record is gone (finished by someone else). */
async function rollPart(
  ns: Namespace,
  part: StagedWrite[],
  recRev: number,
  tombstoneLease: () => Promise<string>,
): Promise<boolean> {
  const cursors = part.filter((w): w is Extract<StagedWrite, { cursor: string }> => 'cursor' in w);
  // First try: cursors as they were under the lock (new jobs have none). A claim or an
  // earlier roll of this part moved some: read them and merge.
  let current = new Map<string, { value: Cursor | undefined; rev: number }>();
  const leaseId = part.some((w) => 'tombstone' in w) ? await tombstoneLease() : undefined;
  for (let attempt = 0; attempt < 20; attempt++) {
    const ops: IOperation[] = [];
    let txn = ns.if(keys.applyLock, 'Mod', '==', recRev);
    for (const c of cursors) {
      const cur = current.get(c.cursor);
      txn = txn.and(c.cursor, 'Mod', '==', cur?.rev ?? 0);
    }
    for (const w of part) {
      if ('put' in w) ops.push(ns.put(w.put).value(w.value));
      else if ('del' in w) ops.push(ns.delete().key(w.del));
      else if ('delPrefix' in w) ops.push(ns.delete().prefix(w.delPrefix));
      else if ('tombstone' in w) ops.push(ns.put(w.tombstone).value(encode(w.value)).lease(leaseId!));
      else ops.push(ns.put(w.cursor).value(encode(mergeCursor(w.value, current.get(w.cursor)?.value))));
    }
    if ((await txn.then(...ops).commit()).succeeded) return true;
    const lock = await ns.get(keys.applyLock).exec();
    if (Number(lock.kvs[0]?.mod_revision ?? 0) !== recRev) return false;
    current = new Map(
      await Promise.all(
        cursors.map(async (c) => {
          const kv = (await ns.get(c.cursor).exec()).kvs[0];
          const value = kv ? decodeOr<Cursor>('cursor', c.cursor, kv.value, () => undefined) : undefined;
          return [c.cursor, { value, rev: kv ? Number(kv.mod_revision) : 0 }] as const;
        }),
      ),
    );
  }
  throw new Error('the cursors of the jobs being applied kept changing; run the apply again to finish it');
}
