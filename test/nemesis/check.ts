// The nemesis's checker: pure, over what the commands wrote (spans), what etcd holds at the
// end, and the runner's log of what it did. Each rule is one of the README's promises:
//   twice      no run id launched by two processes (a scheduled time launched twice)
//   unaccounted every time of a cron job in its final incarnation, while it was not paused,
//              was launched or has a run record (skipped with a reason, lost, ...) — a
//              `job rm` deletes history, so earlier incarnations are only checked for `twice`
//   overlap    no two copies of a loop, no two holders of a mutex, at once
//   concurrency no more runs of a job at once than its limit
//   lost-alive  a run recorded `lost` (its node declared dead) does not go on
//   running-gone a `running` record at the end has a live process
//   leak       no active/ entry, no semaphore slot, no live run process after the quiet period
// Documented tolerance: while an agent is frozen (SIGSTOP) nothing on it can act, so its runs
// may overlap the new owner's until it is resumed and has had the kill grace (KILL_GRACE_MS)
// to stop them. Nothing else is excused: not a partition (the agent is running and must stop
// its single-copy runs before its lease can expire), not kills, not etcd faults.
import type { RunRecord } from '../../agent/core/records';
import { describeSpan, launchedTwice, type Span } from '../harness/spans';
import type { NemesisJob } from './jobs';

/** The agent's SIGTERM → SIGKILL grace (5 s) and a second of scheduling slack. */
export const KILL_GRACE_MS = 6000;
/** Edges of a job's life (apply, resume) where a time may legitimately fall either side. */
const EDGE_MS = 1500;

export interface JobLife {
  /** When the final incarnation was applied (0: before the chaos), or undefined if it ended removed. */
  since: number | undefined;
  /** Paused intervals of the final incarnation (to: Infinity while still paused). */
  paused: { from: number; to: number }[];
}

export interface Observed {
  spans: Span[];
  runs: Map<string, RunRecord[]>;
  lives: Map<string, JobLife>;
  frozen: { node: string; from: number; to: number }[];
  /** Chaos started (all jobs applied) and ended (jobs paused for the quiet period). */
  from: number;
  to: number;
  leftover: { active: string[]; slots: string[]; alive: Span[] };
}

export function check(jobs: NemesisJob[], o: Observed): string[] {
  const out: string[] = [];
  const causes = new Map<string, string>();
  for (const runs of o.runs.values()) for (const r of runs) causes.set(r.id, r.cause);
  /** A span with its run's cause (schedule, manual, loop, retry...) when etcd still has its record. */
  const describe = (s: Span) => `${describeSpan(s)}${causes.has(s.runId) ? ` [${causes.get(s.runId)}]` : ''}`;
  for (const d of launchedTwice(o.spans))
    out.push(
      `twice: ${d.runId} launched by ${d.spans.length} processes: ${d.spans.map(describeSpan).join('; ')}`,
    );

  const excused = (s: Span, from: number, to: number) =>
    o.frozen.some((f) => f.node === s.node && from >= f.from && to <= f.to + KILL_GRACE_MS);
  const groups = new Map<string, Span[]>();
  for (const j of jobs)
    if (j.singleCopy)
      groups.set(j.singleCopy, [
        ...(groups.get(j.singleCopy) ?? []),
        ...o.spans.filter((s) => s.job === j.name),
      ]);
  for (const [group, spans] of groups) {
    const sorted = [...spans].sort((a, b) => a.start - b.start);
    for (let i = 0; i < sorted.length; i++)
      for (let k = i + 1; k < sorted.length && sorted[k].start < sorted[i].lastSeen; k++) {
        const [a, b] = [sorted[i], sorted[k]];
        const from = b.start;
        const to = Math.min(a.lastSeen, b.lastSeen);
        if (excused(a, from, to) || excused(b, from, to)) continue;
        out.push(
          `overlap (${group}): ${describeSpan(a)} and ${describeSpan(b)} alive at once for ${to - from} ms`,
        );
      }
  }

  for (const j of jobs) {
    if (!j.concurrency) continue;
    const spans = o.spans.filter((s) => s.job === j.name);
    for (const s of spans) {
      const at = s.start;
      const alive = spans.filter((x) => x.start <= at && x.lastSeen > at);
      if (alive.length > j.concurrency)
        out.push(`concurrency (${j.name}, limit ${j.concurrency}): ${alive.map(describe).join('; ')}`);
    }
  }

  for (const [job, runs] of o.runs) {
    for (const r of runs) {
      if (r.status === 'lost' && r.endedAt !== undefined) {
        for (const s of o.spans)
          if (
            s.runId === r.id &&
            s.lastSeen > r.endedAt + KILL_GRACE_MS &&
            !excused(s, r.endedAt, s.lastSeen)
          )
            out.push(`lost-alive: ${r.id} was recorded lost at ${r.endedAt} but ${describeSpan(s)} went on`);
      }
      if (r.status === 'running' && !o.leftover.alive.some((s) => s.runId === r.id))
        out.push(
          `running-gone: ${job}'s run ${r.id} (node ${r.node}) is 'running' in etcd but no process of it is alive`,
        );
    }
  }

  for (const j of jobs) {
    const life = o.lives.get(j.name);
    if (!j.periodMs || !life || life.since === undefined) continue;
    const launched = new Set(o.spans.filter((s) => s.job === j.name).map((s) => s.scheduledAt));
    const runs = o.runs.get(j.name) ?? [];
    const recorded = new Set(
      runs.filter((r) => r.status !== 'skipped' || r.until === undefined).map((r) => r.scheduledAt),
    );
    const ranges = runs.filter((r) => r.status === 'skipped' && r.until !== undefined);
    const start = Math.max(o.from, life.since) + EDGE_MS;
    for (let t = Math.ceil(start / j.periodMs) * j.periodMs; t <= o.to - EDGE_MS; t += j.periodMs) {
      if (life.paused.some((p) => t >= p.from - EDGE_MS && t <= p.to + EDGE_MS)) continue;
      if (launched.has(t) || recorded.has(t)) continue;
      if (ranges.some((r) => r.scheduledAt <= t && t <= r.until!)) continue;
      out.push(
        `unaccounted: ${j.name} at ${new Date(t).toISOString()} (${t}) was neither launched nor recorded`,
      );
    }
    for (const r of runs)
      if (r.status === 'skipped' && !r.reason)
        out.push(`unaccounted: skipped record ${r.id} gives no reason`);
  }

  for (const k of o.leftover.active) out.push(`leak: ${k} is still in flight after the quiet period`);
  for (const k of o.leftover.slots) out.push(`leak: semaphore slot ${k} still held after the quiet period`);
  for (const s of o.leftover.alive) out.push(`leak: ${describeSpan(s)} still runs after the quiet period`);
  return out;
}
