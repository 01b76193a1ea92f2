// The nemesis plan: a pure function of (seed, duration) → the timed list of operations
// and faults to apply. Nothing here touches a process or etcd (run.ts does), so a seed
// replays the same schedule, and the plan's rules are unit-tested (test/unit/nemesis-plan).
//
// Rules:
// - Operations (apply, edit, rm, re-apply, pause, resume, trigger, cordon, drain) come
//   every ~1.5 s and are always valid for the state the plan has reached (no pause of a
//   removed job); at most one node is cordoned or drained at a time, and it is uncordoned.
// - Faults come one at a time, each followed by its recovery (SIGCONT, restart, heal,
//   member restart, space freed), so the cluster has its 4 agents most of the time and
//   etcd its quorum always.
// - Nothing happens after `durationMs`; the runner then heals everything and goes quiet.
import { NEMESIS_JOBS } from './jobs';

export const NODES = ['nem1', 'nem2', 'nem3', 'nem4'];
export const ETCD_MEMBERS = 3;

export type JobOp = 'apply' | 'edit' | 'rm' | 'reapply' | 'pause' | 'resume' | 'trigger';
export type NodeOp = 'cordon' | 'drain' | 'uncordon';
export type Fault = 'kill9' | 'groupkill9' | 'term' | 'stop' | 'partition' | 'etcd-kill' | 'fill';
export type Recovery = 'start' | 'cont' | 'heal' | 'etcd-start' | 'relieve';

export type Action =
  | { at: number; op: JobOp; job: string }
  | { at: number; op: NodeOp; node: string }
  | { at: number; op: Exclude<Fault, 'etcd-kill' | 'fill'> | 'start' | 'cont' | 'heal'; node: string }
  | { at: number; op: 'etcd-kill' | 'etcd-start'; member: number }
  | { at: number; op: 'fill' | 'relieve' };

export const FAULTS: Fault[] = ['kill9', 'groupkill9', 'term', 'stop', 'partition', 'etcd-kill', 'fill'];

/** mulberry32: small, fast, good enough to pick actions; the same seed gives the same stream. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function planNemesis(seed: number, durationMs: number): Action[] {
  const rand = rng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)];
  const between = (lo: number, hi: number) => Math.round(lo + rand() * (hi - lo));
  const actions: Action[] = [];

  // Faults: one episode at a time. A fault lasts long enough to matter (past a 3 s lease).
  let t = between(3000, 6000);
  while (t < durationMs) {
    const fault = pick(FAULTS);
    const node = pick(NODES);
    let end = t;
    switch (fault) {
      case 'kill9':
      case 'groupkill9':
        end = t + between(2000, 5000);
        actions.push({ at: t, op: fault, node }, { at: end, op: 'start', node });
        break;
      case 'term':
        // The runner restarts the agent once it has exited (its drain may take a while).
        end = t + between(3000, 6000);
        actions.push({ at: t, op: 'term', node }, { at: end, op: 'start', node });
        break;
      case 'stop':
        end = t + between(5000, 8000);
        actions.push({ at: t, op: 'stop', node }, { at: end, op: 'cont', node });
        break;
      case 'partition':
        end = t + between(5000, 9000);
        actions.push({ at: t, op: 'partition', node }, { at: end, op: 'heal', node });
        break;
      case 'etcd-kill': {
        const member = Math.floor(rand() * ETCD_MEMBERS);
        end = t + between(3000, 7000);
        actions.push({ at: t, op: 'etcd-kill', member }, { at: end, op: 'etcd-start', member });
        break;
      }
      case 'fill':
        end = t + between(3000, 6000);
        actions.push({ at: t, op: 'fill' }, { at: end, op: 'relieve' });
        break;
    }
    t = end + between(2000, 5000);
  }

  // Operations, valid for the state reached so far.
  const exists = new Map(NEMESIS_JOBS.map((j) => [j.name, true]));
  const paused = new Map(NEMESIS_JOBS.map((j) => [j.name, false]));
  let cordoned: { node: string; until: number } | undefined;
  for (let at = between(1000, 2000); at < durationMs; at += between(800, 2200)) {
    if (cordoned && at >= cordoned.until) {
      actions.push({ at, op: 'uncordon', node: cordoned.node });
      cordoned = undefined;
      continue;
    }
    const job = pick(NEMESIS_JOBS).name;
    const roll = rand();
    if (roll < 0.1 && !cordoned) {
      const node = pick(NODES);
      cordoned = { node, until: at + between(4000, 10_000) };
      actions.push({ at, op: rand() < 0.5 ? 'cordon' : 'drain', node });
    } else if (!exists.get(job)) {
      exists.set(job, true);
      paused.set(job, false);
      actions.push({ at, op: 'reapply', job });
    } else if (roll < 0.22) {
      exists.set(job, false);
      actions.push({ at, op: 'rm', job });
    } else if (roll < 0.38) {
      actions.push({ at, op: 'edit', job });
    } else if (roll < 0.55) {
      paused.set(job, !paused.get(job));
      actions.push({ at, op: paused.get(job) ? 'pause' : 'resume', job });
    } else if (roll < 0.75) {
      actions.push({ at, op: 'trigger', job });
    } else {
      actions.push({ at, op: 'apply', job }); // the same spec again: `unchanged`
    }
  }
  if (cordoned) actions.push({ at: durationMs, op: 'uncordon', node: cordoned.node });
  return actions.sort((a, b) => a.at - b.at);
}

export function describeAction(a: Action): string {
  const what =
    'job' in a ? a.job : 'node' in a ? a.node : 'member' in a ? `etcd member m${a.member}` : 'etcd';
  return `${a.op} ${what} (planned at +${(a.at / 1000).toFixed(1)}s)`;
}
