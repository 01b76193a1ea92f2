// What the CLI and the desktop console do to a cluster: jobs, runs, nodes, logs.
// Agents never go through here; they have their own protocol (scheduler, leader).
import { randomUUID } from 'node:crypto';
import type { IKeyValue, IOperation } from 'etcd3';
import type { Cluster } from '../core/etcd';
import { keys, parseRunId, formatRunId, type RunRef } from '../core/keys';
import { skippedRunRecord } from '../core/skipped-run';
import {
  decode,
  decodeOr,
  encode,
  CorruptValueError,
  type Assignment,
  type Cursor,
  type RunRecord,
  type TriggerRecord,
  type CordonRecord,
  type DepRecord,
  type NodeRecord,
} from '../core/records';
import { JOB_FIELDS, type JobSpec } from '../core/job/spec';
import { signJob, signatureKeyId, type SigningKey, type StoredJob as SignedJob } from '../core/signing';
import { policyRefusal } from '../core/node-policy';
import {
  appendEntry,
  appendOp,
  currentActor,
  diffValues,
  jobHistory,
  readTrail,
  type Actor,
  type AuditAction,
  type AuditEntry,
  type TrailRead,
} from '../core/audit';
import {
  planApply,
  batches,
  matchesLabels,
  MAX_TXN_OPS,
  type ApplyResult,
  type JobChange,
  type StoredJob,
} from '../core/job/apply-plan';
import { compileSchedule } from '../core/job/schedule';
import { splitParts, type StagedWrite } from '../core/job/apply-parts';
import { acquireApplyLock, finishLeftApply, waitForApply, ApplyLockedError } from '../core/staged-apply';
import { findCycle } from '../core/job/deps';
import { toEntry } from '../core/mirror';
import { nodeViews, type NodeView } from './node-views';

export type { NodeView };

export type { ApplyResult };

export interface ApplyOptions {
  /** Decide and report, store nothing. */
  dryRun?: boolean;
  /** Also delete stored jobs carrying all these labels that the file does not name. */
  prune?: Record<string, string>;
  /** Sign every spec stored (changed ones, and unchanged ones not signed by this key yet). */
  signWith?: SigningKey;
}

export interface JobView {
  spec: JobSpec;
  owner: string | null;
  cursor: number | null;
  /** Only from getJob: the assignment with its reason and history. */
  assignment?: Assignment | null;
  /** Only from getJob: the key id of the spec's signature (unchecked; null when unsigned). */
  signedBy?: string | null;
  /** Only from getJob: live nodes whose policy refuses the job, and why. */
  refusedBy?: { node: string; reason: string }[];
}

/** The spec of a stored value, with its incarnation (uid), without its signature. */
function specFields(value: SignedJob): JobSpec {
  const out: Record<string, unknown> = {};
  for (const f of JOB_FIELDS) if (value[f] !== undefined) out[f] = value[f];
  if (value.uid !== undefined) out.uid = value.uid;
  return out as unknown as JobSpec;
}

/** The live nodes whose policy refuses a job, as `job get` and the console show it. */
function policyRefusals(nodes: (NodeRecord | undefined)[], job: JobSpec): { node: string; reason: string }[] {
  const out: { node: string; reason: string }[] = [];
  for (const n of nodes) {
    const reason = n && policyRefusal(n.policy, job);
    if (n && reason) out.push({ node: n.id, reason });
  }
  return out;
}

/** What changed between two stored values, for the audit trail: spec fields and the signing key. */
function jobChanges(before: SignedJob | undefined, after: SignedJob | undefined) {
  const changes = diffValues(before && specFields(before), after && specFields(after));
  const k0 = before && signatureKeyId(before);
  const k1 = after && signatureKeyId(after);
  if (k0 !== k1 || (before?.signature?.sig ?? null) !== (after?.signature?.sig ?? null))
    changes.push({
      field: 'signature',
      ...(before ? { before: JSON.stringify(k0 ? `key ${k0}` : 'unsigned') } : {}),
      ...(after ? { after: JSON.stringify(k1 ? `key ${k1}` : 'unsigned') } : {}),
    });
  return changes;
}

/** A change with the value it stores (its incarnation set, then signed when asked). */
type Valued = JobChange & { value?: SignedJob };

/**
 * The value each change stores. With a signing key, an unchanged spec not yet carrying this
 * key's signature becomes an update (it is re-signed); Ed25519 signatures are deterministic.
 */
function withValues(plan: JobChange[], signWith: SigningKey | undefined): Valued[] {
  return plan.map((c) => {
    if (!c.spec || c.result === 'pruned') return c;
    const before = c.before as SignedJob | undefined;
    // The incarnation: kept across updates, new for a job (re-)created. Set before signing:
    // a signature covers it, so it cannot bring back a job deleted since.
    let value: SignedJob = { ...c.spec, uid: before?.uid ?? randomUUID() };
    if (signWith) value = signJob(value, signWith);
    const resign = c.result === 'unchanged' && !!signWith && before?.signature?.sig !== value.signature?.sig;
    return { ...c, value, ...(resign ? { result: 'updated' as const } : {}) };
  });
}

/** How long `job rm` keeps a job's cursor, so a re-created job starts after it. */
const CURSOR_TOMBSTONE_SEC = 3600;

export class Store {
  /** Corrupt values met while reading; shown to the user, never fatal. */
  readonly warnings: string[] = [];

  /** Who this store's changes are recorded as, in the audit trail. */
  actor: Actor;

  constructor(readonly cluster: Cluster) {
    this.actor = currentActor(cluster.user);
  }

  private auditEntry(action: AuditAction, changes: AuditEntry['changes'], keyId?: string | null): AuditEntry {
    return { at: Date.now(), action, ...this.actor, ...(keyId !== undefined ? { keyId } : {}), changes };
  }

  private get ns() {
    return this.cluster.ns;
  }

  private warn = (err: CorruptValueError) => this.warnings.push(err.message);

  // ---- jobs --------------------------------------------------------------------

  /**
   * Stores validated specs, all or nothing (see job/apply-plan.ts for what changes). A
   * change that fits one etcd transaction is one; a larger one is staged and committed
   * at once (staged-apply.ts). A new job's cursor starts now (it does not run for times
   * before it existed); a changed schedule takes effect from now too.
   */
  async applyJobs(jobs: JobSpec[], opts: ApplyOptions = {}): Promise<JobChange[]> {
    const pruneNames = opts.prune ? await this.pruneCandidates(jobs, opts.prune) : [];
    await this.checkSharedResources(jobs, pruneNames);
    const plan: JobChange[] = withValues(
      planApply(
        jobs,
        await this.readStored([...jobs.map((j) => j.name), ...pruneNames]),
        Date.now(),
        pruneNames,
      ),
      opts.signWith,
    );
    if (opts.dryRun) return plan;
    // One compare is the apply lock's.
    if (batches(plan, MAX_TXN_OPS - 1).length <= 1)
      return this.applyBatch([...jobs, ...pruneNames], pruneNames, opts.signWith);
    return this.applyStaged(jobs, pruneNames, opts.signWith);
  }

  /** An apply too large for one transaction: planned under the apply lock, staged, committed at once. */
  private async applyStaged(
    jobs: JobSpec[],
    pruneNames: string[],
    signWith: SigningKey | undefined,
  ): Promise<JobChange[]> {
    const lock = await acquireApplyLock(this.ns, `${this.actor.osUser}@${this.actor.host}`);
    try {
      const names = [...jobs.map((j) => j.name), ...pruneNames];
      const [stored, trails] = await Promise.all([this.readStored(names), this.readTrails(names)]);
      const plan = withValues(planApply(jobs, stored, Date.now(), pruneNames), signWith);
      const groups = plan
        .filter((c) => c.result !== 'unchanged')
        .map((c) => ({ name: c.name, writes: this.stagedWrites(c, trails.get(c.name)) }));
      if (groups.length) await lock.store(splitParts(groups));
      return plan;
    } finally {
      await lock.release();
    }
  }

  /** The audit trails of `names`, by name: one range read. */
  private async readTrails(names: string[]): Promise<Map<string, Uint8Array>> {
    const wanted = new Set(names);
    const res = await this.ns.getAll().prefix(keys.jobAudit('')).exec();
    const out = new Map<string, Uint8Array>();
    for (const kv of res.kvs) {
      const name = kv.key.toString().slice(keys.jobAudit('').length);
      if (wanted.has(name)) out.set(name, kv.value);
    }
    return out;
  }

  /** The audit entry of one applied change (the same whether it is staged or written at once). */
  private changeEntry(c: Valued): AuditEntry {
    const before = c.before as SignedJob | undefined;
    return c.result === 'pruned'
      ? this.auditEntry('deleted', jobChanges(before, undefined))
      : this.auditEntry(
          c.result === 'created' ? 'created' : 'updated',
          jobChanges(before, c.value),
          (c.value && signatureKeyId(c.value)) ?? null,
        );
  }

  /** What one change writes in a staged apply: as applyBatch writes it, with its audit entry. */
  private stagedWrites(c: Valued, trail: Uint8Array | undefined): StagedWrite[] {
    const entry = this.changeEntry(c);
    const out: StagedWrite[] = [
      { put: keys.jobAudit(c.name), value: JSON.stringify(appendEntry(trail, entry)) },
    ];
    if (c.result === 'pruned')
      out.push(
        { del: keys.job(c.name) },
        { tombstone: keys.cursor(c.name), value: c.tombstone! },
        { del: keys.assignment(c.name) },
        { delPrefix: keys.jobRuns(c.name) },
        { delPrefix: keys.jobTriggers(c.name) },
        { del: keys.completion(c.name) },
      );
    else {
      out.push({ put: keys.job(c.name), value: encode(c.value!) });
      if (c.cursor) out.push({ cursor: keys.cursor(c.name), value: c.cursor });
    }
    return out;
  }

  /** Stored jobs with all of `labels` that `jobs` does not name. */
  private async pruneCandidates(jobs: JobSpec[], labels: Record<string, string>): Promise<string[]> {
    const named = new Set(jobs.map((j) => j.name));
    return (await this.listJobs())
      .filter((v) => !named.has(v.spec.name) && matchesLabels(v.spec, labels))
      .map((v) => v.spec.name);
  }

  private async readStored(names: string[]): Promise<Map<string, StoredJob>> {
    const out = new Map<string, StoredJob>();
    // Many jobs: two range reads instead of two reads per job (thousands at once would time out).
    if (names.length > 64) {
      const wanted = new Set(names);
      const [jobs, cursors] = await Promise.all([
        this.ns.getAll().prefix(keys.jobs).exec(),
        this.ns.getAll().prefix(keys.cursors).exec(),
      ]);
      const cursorKv = new Map(cursors.kvs.map((kv) => [kv.key.toString(), kv]));
      for (const kv of jobs.kvs) {
        const key = kv.key.toString();
        const name = key.slice(keys.jobs.length);
        if (!wanted.has(name)) continue;
        const ckv = cursorKv.get(keys.cursor(name));
        out.set(name, {
          spec: decodeOr<JobSpec>('job', key, kv.value, this.warn),
          modRevision: Number(kv.mod_revision),
          cursor: ckv ? decodeOr<Cursor>('cursor', keys.cursor(name), ckv.value, this.warn) : undefined,
          cursorRevision: ckv ? Number(ckv.mod_revision) : 0,
        });
      }
      // Tombstones: a cursor whose job was removed.
      for (const [ckey, ckv] of cursorKv) {
        const name = ckey.slice(keys.cursors.length);
        if (!wanted.has(name) || out.has(name)) continue;
        out.set(name, {
          modRevision: 0,
          cursor: decodeOr<Cursor>('cursor', ckey, ckv.value, this.warn),
          cursorRevision: Number(ckv.mod_revision),
        });
      }
      return out;
    }
    await Promise.all(
      names.map(async (name) => {
        const [kv, ckv] = await Promise.all([
          this.ns.get(keys.job(name)).exec(),
          this.ns.get(keys.cursor(name)).exec(),
        ]).then(([a, b]) => [a.kvs[0], b.kvs[0]]);
        if (!kv && !ckv) return;
        out.set(name, {
          spec: kv ? decodeOr<JobSpec>('job', keys.job(name), kv.value, this.warn) : undefined,
          modRevision: kv ? Number(kv.mod_revision) : 0,
          cursor: ckv ? decodeOr<Cursor>('cursor', keys.cursor(name), ckv.value, this.warn) : undefined,
          cursorRevision: ckv ? Number(ckv.mod_revision) : 0,
        });
      }),
    );
    return out;
  }

  /** One transaction: specs to store and names to prune; re-planned if anything moved meanwhile. */
  private async applyBatch(
    items: (JobSpec | string)[],
    pruneNames: string[],
    signWith: SigningKey | undefined,
  ): Promise<JobChange[]> {
    const specs = items.filter((i): i is JobSpec => typeof i !== 'string');
    const prunes = items.filter((i): i is string => typeof i === 'string' && pruneNames.includes(i));
    for (let attempt = 0; attempt < 5; attempt++) {
      await waitForApply(this.ns);
      const plan = withValues(
        planApply(
          specs,
          await this.readStored(items.map((i) => (typeof i === 'string' ? i : i.name))),
          Date.now(),
          prunes,
        ),
        signWith,
      );
      const compares: [string, number][] = [];
      const ops: IOperation[] = [];
      // Every change is recorded in its job's audit trail, in the same transaction.
      const trails = new Map<string, TrailRead>();
      await Promise.all(
        plan
          .filter((c) => c.result !== 'unchanged')
          .map(async (c) => trails.set(c.name, await readTrail(this.ns, keys.jobAudit(c.name)))),
      );
      for (const c of plan) {
        const trail = trails.get(c.name);
        if (!trail) continue;
        compares.push([trail.key, trail.modRevision]);
        ops.push(appendOp(this.ns, trail, this.changeEntry(c)));
      }
      const tombstoneLease = plan.some((c) => c.result === 'pruned')
        ? await this.tombstoneLease()
        : undefined;
      for (const c of plan) {
        compares.push([keys.job(c.name), c.jobRevision]);
        if (c.result === 'pruned') ops.push(...this.removeOps(c.name, c.tombstone!, tombstoneLease!.id));
        else if (c.value && c.result !== 'unchanged')
          ops.push(this.ns.put(keys.job(c.name)).value(encode(c.value)));
        if (c.cursor) {
          compares.push([keys.cursor(c.name), c.cursorRevision ?? 0]);
          ops.push(this.ns.put(keys.cursor(c.name)).value(encode(c.cursor)));
        }
      }
      if (ops.length === 0) return plan;
      // Optimistic: every job and cursor we read must be as we read it, and no large apply under way.
      let txn = this.ns.if(keys.applyLock, 'Version', '==', 0);
      for (const [k, rev] of compares) txn = txn.and(k, 'Mod', '==', rev);
      const res = await txn
        .then(...ops)
        .commit()
        .finally(() => tombstoneLease?.release());
      if (res.succeeded) return plan;
      await tombstoneLease?.revoke();
    }
    throw new Error('the jobs kept changing while applying (another writer?); try again');
  }

  /** A lease for the cursor tombstones of removed jobs (kept an hour, not renewed). */
  private async tombstoneLease(): Promise<{ id: string; release(): void; revoke(): Promise<void> }> {
    const lease = this.ns.lease(CURSOR_TOMBSTONE_SEC, { autoKeepAlive: false });
    lease.on('lost', () => undefined);
    const id = await lease.grant();
    return {
      id,
      release: () => lease.release(),
      revoke: () =>
        this.ns.leaseClient
          .leaseRevoke({ ID: String(id) })
          .then(() => undefined)
          .catch(() => undefined),
    };
  }

  /** What removing a job writes: everything goes but its cursor, kept as a tombstone on a lease. */
  private removeOps(name: string, tombstone: Cursor, leaseId: string): IOperation[] {
    return [
      this.ns.delete().key(keys.job(name)),
      this.ns.put(keys.cursor(name)).value(encode(tombstone)).lease(leaseId),
      this.ns.delete().key(keys.assignment(name)),
      this.ns.delete().prefix(keys.jobRuns(name)),
      this.ns.delete().prefix(keys.jobTriggers(name)),
      this.ns.delete().key(keys.completion(name)),
    ];
  }

  /** Jobs naming the same resource must agree on its size, or the semaphore would be ambiguous. */
  private async checkSharedResources(incoming: JobSpec[], pruned: string[] = []): Promise<void> {
    const replaced = new Set([...incoming.map((j) => j.name), ...pruned]);
    const stored = (await this.listJobs()).map((v) => v.spec).filter((j) => !replaced.has(j.name));
    const sizes = new Map<string, { size: number; job: string }>();
    const problems: string[] = [];
    for (const job of [...stored, ...incoming]) {
      for (const [name, size] of Object.entries(job.resources ?? {})) {
        const seen = sizes.get(name);
        if (!seen) sizes.set(name, { size, job: job.name });
        else if (seen.size !== size)
          problems.push(
            `job "${job.name}": resources.${name}: size ${size} differs from ${seen.size} in job "${seen.job}"; every job naming a resource must give it the same size`,
          );
      }
    }
    // Dependencies: every parent must exist (here or already stored), and no cycles.
    const all = [...stored, ...incoming];
    const names = new Set(all.map((j) => j.name));
    // A pruned job must not leave a job behind that runs after it.
    for (const job of all)
      for (const d of job.after ?? [])
        if (pruned.includes(d.job))
          problems.push(
            `job "${job.name}": after: "${d.job}" would be pruned; keep "${d.job}" in the file, or remove the dependency`,
          );
    for (const job of incoming)
      for (const d of job.after ?? [])
        if (!names.has(d.job))
          problems.push(
            `job "${job.name}": after: no job named "${d.job}"; apply it first, or in the same file`,
          );
    const cycle = findCycle(all);
    if (cycle)
      problems.push(`dependency cycle: ${cycle.join(' → ')}; a job cannot (indirectly) run after itself`);
    if (problems.length) throw new SpecConflictError(problems.join('\n'));
  }

  async listJobs(): Promise<JobView[]> {
    // A large apply whose writer died after its commit is finished here, so it is seen whole.
    // Only the apply's own trouble is worth a warning: an etcd out of reach fails the list below.
    await finishLeftApply(this.ns).catch((err: Error) => {
      if (err instanceof ApplyLockedError)
        this.warnings.push(
          `a committed \`job apply\` is not fully stored yet (${err.message}); apply again to finish it`,
        );
    });
    const [jobs, assigns] = await Promise.all([
      this.ns.getAll().prefix(keys.jobs).exec(),
      this.ns.getAll().prefix(keys.assignments).exec(),
    ]);
    const owners = new Map<string, string>();
    for (const kv of assigns.kvs) {
      const a = decodeOr<Assignment>('assignment', kv.key.toString(), kv.value, this.warn);
      if (a) owners.set(keys.assignmentJob(kv.key.toString()), a.node);
    }
    const out: JobView[] = [];
    for (const kv of jobs.kvs) {
      const stored = decodeOr<SignedJob>('job', kv.key.toString(), kv.value, this.warn);
      if (stored)
        out.push({ spec: specFields(stored), owner: owners.get(stored.name) ?? null, cursor: null });
    }
    return out.sort((a, b) => (a.spec.name < b.spec.name ? -1 : 1));
  }

  /** Each job's latest completed run (its `completions/` record), by job name. */
  async lastOutcomes(): Promise<Map<string, DepRecord>> {
    const res = await this.ns.getAll().prefix(keys.completions).exec();
    const out = new Map<string, DepRecord>();
    for (const kv of res.kvs) {
      const d = decodeOr<DepRecord>('dep', kv.key.toString(), kv.value, this.warn);
      if (d) out.set(keys.completionJob(kv.key.toString()), d);
    }
    return out;
  }

  async getJob(name: string): Promise<JobView> {
    const [kv, a, c, nodes] = await Promise.all([
      this.ns.get(keys.job(name)).exec(),
      this.ns.get(keys.assignment(name)).exec(),
      this.ns.get(keys.cursor(name)).exec(),
      this.ns.getAll().prefix(keys.nodes).exec(),
    ]);
    if (!kv.kvs[0]) throw new NotFoundError(`no job named "${name}"; see \`peppercorn job ls\``);
    const stored = decode<SignedJob>('job', keys.job(name), kv.kvs[0].value);
    const assign =
      a.kvs[0] && decodeOr<Assignment>('assignment', keys.assignment(name), a.kvs[0].value, this.warn);
    const cursor = c.kvs[0] && decodeOr<Cursor>('cursor', keys.cursor(name), c.kvs[0].value, this.warn);
    return {
      spec: specFields(stored),
      owner: assign ? assign.node : null,
      cursor: cursor ? cursor.t : null,
      assignment: assign ?? null,
      signedBy: signatureKeyId(stored) ?? null,
      refusedBy: policyRefusals(
        nodes.kvs.map((n) => decodeOr<NodeRecord>('node', n.key.toString(), n.value, this.warn)),
        stored,
      ),
    };
  }

  /** Who changed a job, when and what; newest first (kept after the job is deleted). */
  async jobHistory(name: string): Promise<AuditEntry[]> {
    return jobHistory(this.ns, name);
  }

  /**
   * Deletes a job with its history. Runs in flight finish, except single-copy ones (loops,
   * semaphore holders), which their node stops. The cursor stays an hour as a tombstone
   * (on a lease), so the same name created again never launches a time this one claimed.
   */
  async removeJob(name: string): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      await waitForApply(this.ns);
      const [kv, ckvRes, trail] = await Promise.all([
        this.ns.get(keys.job(name)).exec(),
        this.ns.get(keys.cursor(name)).exec(),
        readTrail(this.ns, keys.jobAudit(name)),
      ]);
      const cur = kv.kvs[0];
      if (!cur) throw new NotFoundError(`no job named "${name}"`);
      const old = decodeOr<SignedJob>('job', keys.job(name), cur.value, this.warn);
      const ckv = ckvRes.kvs[0];
      const c = ckv && decodeOr<Cursor>('cursor', keys.cursor(name), ckv.value, this.warn);
      const tombstone: Cursor = { t: Math.max(Date.now(), c?.t ?? 0), removedAt: Date.now() };
      const lease = await this.tombstoneLease();
      // Compared on the job's revision: the audit entry records the job as it was deleted.
      const res = await this.ns
        .if(keys.job(name), 'Mod', '==', Number(cur.mod_revision))
        .and(trail.key, 'Mod', '==', trail.modRevision)
        .and(keys.applyLock, 'Version', '==', 0)
        .then(
          ...this.removeOps(name, tombstone, lease.id),
          appendOp(this.ns, trail, this.auditEntry('deleted', jobChanges(old, undefined))),
        )
        .commit()
        .finally(() => lease.release());
      if (res.succeeded) return;
      await lease.revoke();
    }
    throw new Error(`job "${name}" kept changing while deleting it; try again`);
  }

  /**
   * Pauses or resumes a job. Resuming moves the cursor to now, so the times that
   * passed while paused are not launched; they are recorded as one skipped range.
   */
  async setPaused(name: string, paused: boolean): Promise<boolean> {
    for (let attempt = 0; attempt < 5; attempt++) {
      await waitForApply(this.ns);
      const [kv, ckv, trail] = await Promise.all([
        this.ns.get(keys.job(name)).exec(),
        this.ns.get(keys.cursor(name)).exec(),
        readTrail(this.ns, keys.jobAudit(name)),
      ]);
      if (!kv.kvs[0]) throw new NotFoundError(`no job named "${name}"`);
      const spec = decode<SignedJob>('job', keys.job(name), kv.kvs[0].value);
      if (spec.paused === paused) return false;
      const now = Date.now();
      // The signature does not cover `paused`: it stays valid.
      const next: SignedJob = { ...spec, paused };
      const ops: IOperation[] = [
        this.ns.put(keys.job(name)).value(encode(next)),
        appendOp(
          this.ns,
          trail,
          this.auditEntry(
            paused ? 'paused' : 'resumed',
            jobChanges(spec, next),
            signatureKeyId(spec) ?? null,
          ),
        ),
      ];
      let txn = this.ns
        .if(keys.job(name), 'Mod', '==', Number(kv.kvs[0].mod_revision))
        .and(trail.key, 'Mod', '==', trail.modRevision)
        .and(keys.applyLock, 'Version', '==', 0);
      const c = ckv.kvs[0] && decodeOr<Cursor>('cursor', keys.cursor(name), ckv.kvs[0].value, this.warn);
      // Pausing and resuming both settle the times from the cursor to now, in the same write
      // that moves the cursor: on resume those the pause held back; on pause those already due
      // that no node had claimed yet (a lagging or failing-over owner), which would otherwise
      // stay unrecorded for as long as the job is paused.
      if (spec.kind !== 'loop') {
        txn = txn.and(keys.cursor(name), 'Mod', '==', ckv.kvs[0] ? Number(ckv.kvs[0].mod_revision) : 0);
        ops.push(this.ns.put(keys.cursor(name)).value(encode({ ...c, t: Math.max(now, c?.t ?? 0) })));
        const missed = c ? countTimes(spec, c.t, now) : undefined;
        if (missed && missed.count > 0) {
          const { ref, record: rec } = skippedRunRecord(
            {
              job: name,
              node: '',
              epoch: 0,
              first: missed.first,
              last: missed.last,
              count: missed.capped ? undefined : missed.count,
              reason: paused
                ? `not launched before the job was paused: ${missed.capped ? 'more than ' : ''}${missed.count} scheduled time(s) were due and not yet claimed by any node`
                : `the job was paused: ${missed.capped ? 'more than ' : ''}${missed.count} scheduled time(s) not launched`,
            },
            now,
          );
          ops.push(this.ns.put(keys.run(ref)).value(encode(rec)));
        }
      }
      const res = await txn.then(...ops).commit();
      if (res.succeeded) return true;
    }
    throw new Error(`job "${name}" kept changing; try again`);
  }

  /** Asks the job's node to run it now; returns the run id. */
  async trigger(name: string, by: string): Promise<string> {
    await this.getJob(name);
    for (let attempt = 0; attempt < 5; attempt++) {
      let at = Date.now() + attempt;
      // Whole seconds belong to the schedule; a manual run takes a millisecond beside them.
      if (at % 1000 === 0) at += 1;
      const ref: RunRef = { job: name, scheduledAt: at, attempt: 1 };
      const trig: TriggerRecord = { at, by, reason: `triggered by hand (${by})` };
      const res = await this.ns
        .if(keys.trigger(ref), 'Create', '==', 0)
        .and(keys.run(ref), 'Create', '==', 0)
        .then(this.ns.put(keys.trigger(ref)).value(encode(trig)))
        .commit();
      if (res.succeeded) return formatRunId(ref);
    }
    throw new Error('could not record the trigger; try again');
  }

  // ---- runs --------------------------------------------------------------------

  async listRuns(job: string, limit: number): Promise<RunRecord[]> {
    const res = await this.ns.getAll().prefix(keys.jobRuns(job)).sort('Key', 'Descend').limit(limit).exec();
    const out: RunRecord[] = [];
    for (const kv of res.kvs) {
      const r = decodeOr<RunRecord>('run', kv.key.toString(), kv.value, this.warn);
      if (r) out.push(r);
    }
    return out;
  }

  /** Triggers not yet claimed: runs asked for that no node has started. */
  async pendingTriggers(job: string): Promise<string[]> {
    const res = await this.ns.getAll().prefix(keys.jobTriggers(job)).keys();
    return res
      .map((k) => keys.triggerRef(k))
      .filter((r): r is RunRef => !!r)
      .map(formatRunId);
  }

  async getRun(runId: string): Promise<RunRecord | null> {
    const ref = parseRunId(runId);
    if (!ref)
      throw new Error(
        `"${runId}" is not a run id (expected <job>.<scheduled ms>.<attempt>, as printed by \`peppercorn runs\`)`,
      );
    const res = await this.ns.get(keys.run(ref)).exec();
    if (!res.kvs[0]) return null;
    return decode<RunRecord>('run', keys.run(ref), res.kvs[0].value);
  }

  /** Output chunks shipped so far, from `fromSeq` on, and the revision they were read at. */
  async readLogs(
    runId: string,
    fromSeq = 0,
  ): Promise<{ chunks: { seq: number; data: Buffer }[]; revision: number }> {
    const res = await this.ns.getAll().prefix(keys.logs(runId)).sort('Key', 'Ascend').exec();
    const chunks = res.kvs
      .map((kv) => ({ seq: keys.logSeq(kv.key.toString()), data: kv.value }))
      .filter((c) => c.seq >= fromSeq);
    return { chunks, revision: Number(res.header.revision) };
  }

  /**
   * Follows a run's output: what is stored, then each new chunk, in order and
   * once each, until the run has an outcome. Resolves with the final record.
   */
  async followLogs(
    runId: string,
    onChunk: (data: Buffer, seq: number) => void,
    signal?: AbortSignal,
    /** Resume: the first chunk wanted (a reader that reconnects passes the next one it lacks). */
    fromSeq = 0,
  ): Promise<RunRecord | null> {
    const ref = parseRunId(runId);
    if (!ref) throw new Error(`"${runId}" is not a run id`);
    let nextSeq = fromSeq;
    const emit = (seq: number, data: Buffer) => {
      if (seq < nextSeq) return;
      nextSeq = seq + 1;
      onChunk(data, seq);
    };
    for (;;) {
      const { chunks } = await this.readLogs(runId, nextSeq);
      for (const c of chunks) emit(c.seq, c.data);
      const run = await this.getRun(runId).catch(() => null);
      if ((run && run.status !== 'running') || signal?.aborted) {
        // The outcome is written after the last chunk: one more read catches the tail.
        const last = await this.readLogs(runId, nextSeq);
        for (const c of last.chunks) emit(c.seq, c.data);
        return run;
      }
      const watcher = await this.ns.watch().prefix(keys.logs(runId)).create();
      const runWatcher = await this.ns.watch().key(keys.run(ref)).create();
      await new Promise<void>((resolve) => {
        const finish = () => {
          void watcher.cancel().catch(() => undefined);
          void runWatcher.cancel().catch(() => undefined);
          signal?.removeEventListener('abort', finish);
          resolve();
        };
        watcher.on('put', (kv) => emit(keys.logSeq(kv.key.toString()), kv.value));
        watcher.on('error', finish);
        runWatcher.on('error', finish);
        runWatcher.on('put', finish);
        signal?.addEventListener('abort', finish);
        // Chunks written between our read and the watch's start are caught by re-reading;
        // so is the run record (claimed, or even ended, before the watch began).
        void this.readLogs(runId, nextSeq).then((r) => r.chunks.forEach((c) => emit(c.seq, c.data)), finish);
        void this.getRun(runId).then((r) => {
          if (r && (!run || r.status !== run.status)) finish();
        }, finish);
      });
    }
  }

  // ---- nodes -------------------------------------------------------------------

  async listNodes(): Promise<NodeView[]> {
    const [members, nodes, leader, active, assignments, cordons] = await Promise.all([
      this.ns.getAll().prefix(keys.members).exec(),
      this.ns.getAll().prefix(keys.nodes).exec(),
      this.ns.get(keys.leader).exec(),
      this.ns.getAll().prefix(keys.active).exec(),
      this.ns.getAll().prefix(keys.assignments).exec(),
      this.ns.getAll().prefix(keys.cordons).exec(),
    ]);
    const entries = (res: { kvs: IKeyValue[] }) => res.kvs.map(toEntry);
    return nodeViews(
      {
        members: entries(members),
        nodes: entries(nodes),
        leader: leader.kvs[0] && toEntry(leader.kvs[0]),
        active: entries(active),
        assignments: entries(assignments),
        cordons: entries(cordons),
      },
      this.warn,
    );
  }
}

export class NotFoundError extends Error {}

/** Specs that are valid one by one but not together with the stored jobs. */
export class SpecConflictError extends Error {}

/** Cordon (no new jobs), drain (no new jobs, and its jobs move away as each goes idle), or neither. */
export async function setCordon(
  store: Store,
  node: string,
  mode: CordonRecord['mode'] | null,
  by: string,
): Promise<void> {
  const nodes = await store.listNodes();
  if (!nodes.some((n) => n.id === node)) {
    throw new NotFoundError(`no node named "${node}"; see \`peppercorn nodes\``);
  }
  const { ns } = store.cluster;
  if (mode === null) await ns.delete().key(keys.cordon(node)).exec();
  else {
    const rec: CordonRecord = { mode, by, at: Date.now() };
    await ns.put(keys.cordon(node)).value(encode(rec)).exec();
  }
}

/**
 * Forgets a dead node for good (a retired machine): its member record and cordon go, so
 * `nodes` stops listing it and the leader resolves its node-down alert. Refused while it lives.
 */
export async function forgetNode(store: Store, node: string): Promise<void> {
  const nodes = await store.listNodes();
  const view = nodes.find((n) => n.id === node);
  if (!view) throw new NotFoundError(`no node named "${node}"; see \`peppercorn nodes\``);
  const { ns } = store.cluster;
  // Compared in the same write: a node that rejoins meanwhile is not forgotten.
  const res = await ns
    .if(keys.node(node), 'Create', '==', 0)
    .then(ns.delete().key(keys.member(node)), ns.delete().key(keys.cordon(node)))
    .commit();
  if (!res.succeeded)
    throw new Error(`node "${node}" is alive; stop its agent first (a live node cannot be forgotten)`);
}

/** How many times a job fired in (from, to]; capped so a long pause costs little. */
function countTimes(
  spec: JobSpec,
  from: number,
  to: number,
): { first: number; last: number; count: number; capped: boolean } | undefined {
  let schedule;
  try {
    schedule = compileSchedule(spec);
  } catch {
    return undefined;
  }
  const first = schedule.next(from);
  if (first === null || first > to) return undefined;
  let last = first;
  let count = 1;
  for (;;) {
    const n = schedule.next(last);
    if (n === null || n > to) break;
    last = n;
    if (++count >= 100_000) return { first, last: to, count, capped: true };
  }
  return { first, last, count, capped: false };
}
