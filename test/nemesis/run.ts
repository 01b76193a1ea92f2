// The nemesis's effects: a 3-member etcd (with a quota), 4 agents each reaching every member
// through its own TCP proxies (so one agent can be partitioned), the plan's actions applied
// on time, then everything healed, the jobs paused, a quiet period, and the checker.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentProc, sleep, waitFor } from '../harness/cluster';
import { TestEtcdCluster, etcdctlAsync, relieveQuotaAsync } from '../harness/etcd';
import { TcpProxy } from '../harness/proxy';
import { readSpans, killSpans, spanRunning } from '../harness/spans';
import { connect, type Cluster } from '../../agent/core/etcd';
import { Store, setCordon } from '../../agent/api/store';
import { parseJobFile } from '../../agent/core/job/files';
import { keys } from '../../agent/core/keys';
import type { RunRecord } from '../../agent/core/records';
import { planNemesis, describeAction, NODES, type Action } from './plan';
import { NEMESIS_JOBS, nemesisJob } from './jobs';
import { check, type JobLife } from './check';

const PREFIX = '/nemesis/';
const FILLER = '/nemesis-filler/';
/** Small enough to fill in seconds, large enough for the cluster's own data. */
const QUOTA_BYTES = 24 << 20;

export interface NemesisResult {
  seed: number;
  durationMs: number;
  violations: string[];
  log: string[];
  dir: string;
}

export async function runNemesis(
  seed: number,
  durationMs: number,
  say: (line: string) => void = () => undefined,
): Promise<NemesisResult> {
  const dir = mkdtempSync(join(tmpdir(), 'peppercorn-nemesis-'));
  const ledger = join(dir, 'ledger.txt');
  const plan = planNemesis(seed, durationMs);
  const log: string[] = [];
  const t0 = { at: 0 };
  const note = (line: string) => {
    const l = `${t0.at ? `+${((Date.now() - t0.at) / 1000).toFixed(1)}s` : 'setup'} ${line}`;
    log.push(l);
    say(l);
  };
  const etcd = new TestEtcdCluster(3, { args: ['--quota-backend-bytes', String(QUOTA_BYTES)] });
  const proxies = new Map<string, TcpProxy[]>();
  const agents = new Map<string, AgentProc>();
  const starting = new Set<string>();
  /** Agents killed or stopped by a fault, to be restarted by its recovery. */
  const downed = new Set<string>();
  const frozen: { node: string; from: number; to: number }[] = [];
  const lives = new Map<string, JobLife>(NEMESIS_JOBS.map((j) => [j.name, { since: 0, paused: [] }]));
  const variants = new Map<string, number>(NEMESIS_JOBS.map((j) => [j.name, 0]));
  /** Set once the run is over, so the final kills are not reported as agents exiting on their own. */
  const closing = { done: false };
  let cluster: Cluster | undefined;
  let filler: Cluster | undefined;
  let filling: Promise<void> | undefined;
  const background = new Set<Promise<unknown>>();
  const bg = (p: Promise<unknown>) => {
    const q = p.catch((err) => note(`  error: ${(err as Error).message}`));
    background.add(q);
    void q.finally(() => background.delete(q));
  };
  const runningEndpoints = () => etcd.members.filter((m) => m.running).map((m) => m.endpoint);

  const startAgent = (id: string) => {
    const a = new AgentProc(
      id,
      join(dir, id),
      join(dir, `${id}.log`),
      ['--lease-ttl', '3', '--keep-runs', '100000', '--history-window', '1m'],
      {
        ...process.env,
        PEPPERCORN_ETCD: proxies
          .get(id)!
          .map((p) => p.endpoint)
          .join(','),
        PEPPERCORN_PREFIX: PREFIX,
      },
      { detached: true },
    );
    // An agent that exits when no fault asked it to (it refuses to start while etcd is full
    // or the member it dialled is down) is restarted 2 s later, as its systemd unit does
    // (packaging/peppercorn-agent.service: Restart=always, RestartSec=2s).
    a.proc.on('exit', (code, signal) => {
      if (downed.has(id) || starting.has(id) || agents.get(id) !== a || closing.done) return;
      note(`  ${id} exited on its own (${signal ?? `code ${code}`}); restarting it in 2 s, as systemd would`);
      setTimeout(() => {
        if (agents.get(id) === a && !downed.has(id) && !closing.done) bg(restart(id));
      }, 2000);
    });
    agents.set(id, a);
  };
  /** Restarts an agent once its previous process has exited (a SIGTERM drain may take a while). */
  const restart = async (id: string) => {
    if (starting.has(id)) return;
    starting.add(id);
    try {
      const a = agents.get(id)!;
      if (a.alive) {
        const exited = await Promise.race([a.exited().then(() => true), sleep(45_000).then(() => false)]);
        if (!exited) {
          note(`  ${id} has not exited 45 s after being asked to; kill -9`);
          a.resume();
          a.kill9();
          await a.exited();
        }
      }
      startAgent(id);
      note(`  ${id} restarted`);
    } finally {
      starting.delete(id);
    }
  };
  const usable = (id: string) => {
    const a = agents.get(id)!;
    return (
      a.alive &&
      !starting.has(id) &&
      !frozen.some((f) => f.node === id && f.to === Infinity) &&
      !proxies.get(id)![0].isCut
    );
  };

  const store = () => new Store(cluster!);
  const applyJob = async (name: string) => {
    const parsed = parseJobFile(nemesisJob(name).yaml(ledger, variants.get(name)!), name);
    if (!parsed.ok) throw new Error(`bad nemesis spec ${name}: ${JSON.stringify(parsed.problems)}`);
    const [r] = await store().applyJobs(parsed.jobs);
    return r.result;
  };
  const closePause = (life: JobLife, at: number) => {
    const last = life.paused[life.paused.length - 1];
    if (last && last.to === Infinity) last.to = at;
  };

  const jobOp = async (a: Extract<Action, { job: string }>) => {
    const life = lives.get(a.job)!;
    const at = Date.now();
    try {
      switch (a.op) {
        case 'apply':
        case 'reapply':
        case 'edit': {
          if (a.op === 'edit') variants.set(a.job, 1 - variants.get(a.job)!);
          const result = await applyJob(a.job);
          if (life.since === undefined) life.since = Date.now();
          closePause(life, Date.now()); // the spec says paused: false
          note(`  ${a.op} ${a.job}: ${result}`);
          break;
        }
        case 'rm':
          await store().removeJob(a.job);
          life.since = undefined;
          life.paused = [];
          break;
        case 'pause':
          if (await store().setPaused(a.job, true)) life.paused.push({ from: at, to: Infinity });
          break;
        case 'resume':
          await store().setPaused(a.job, false);
          closePause(life, Date.now());
          break;
        case 'trigger':
          note(`  triggered ${await store().trigger(a.job, 'nemesis')}`);
          break;
      }
    } catch (err) {
      note(`  ${a.op} ${a.job} refused: ${(err as Error).message}`);
      await learnOutcome(a, at);
    }
  };
  /**
   * A refused write may still have committed (the member died with the reply on the wire,
   * a deadline passed after etcd applied it): read the job back and take etcd's word for
   * what happened, or the checker would hold the agents to a pause or a removal that did not
   * happen, or miss one that did.
   */
  const learnOutcome = async (a: Extract<Action, { job: string }>, at: number) => {
    if (a.op === 'trigger') return; // a trigger that committed is a run like any other
    const life = lives.get(a.job)!;
    for (let i = 0; i < 30; i++) {
      let kv: { value: Buffer } | undefined;
      try {
        kv = (await cluster!.ns.get(keys.job(a.job)).exec()).kvs[0];
      } catch {
        await sleep(500);
        continue;
      }
      const paused = kv ? (JSON.parse(kv.value.toString()) as { paused?: boolean }).paused === true : false;
      const open = life.paused.some((p) => p.to === Infinity);
      if (a.op === 'rm' && !kv && life.since !== undefined) {
        life.since = undefined;
        life.paused = [];
      } else if (a.op === 'pause' && kv && paused && !open) {
        life.paused.push({ from: at, to: Infinity });
      } else if (a.op !== 'rm' && a.op !== 'pause' && kv && !paused && (open || life.since === undefined)) {
        life.since ??= Date.now();
        closePause(life, Date.now());
      } else return; // it did not commit: nothing changed
      note(`  ${a.op} ${a.job} had committed after all (read back from etcd)`);
      return;
    }
    note(`  ${a.op} ${a.job}: could not read the job back to learn whether it committed`);
  };

  const fill = async () => {
    filler ??= connect({ endpoints: etcd.endpoints, prefix: FILLER });
    const value = Buffer.alloc(1 << 20, 'x');
    for (let i = 0; i < 200; i++) {
      try {
        await filler.ns.put(`f${i}`).value(value).exec();
      } catch (err) {
        if (/space exceeded|NOSPACE/i.test(String(err))) {
          note('  etcd is at its quota (NOSPACE)');
          return;
        }
        await sleep(200);
      }
    }
    note('  filler gave up before NOSPACE');
  };
  const relieve = async () => {
    await filling;
    // On a slow machine the filler may reach the quota late, so the next fault (a member
    // killed) can land in the middle of freeing space: retry against the members running
    // then, or etcd would stay full until the end instead of for the planned few seconds.
    for (let attempt = 1; ; attempt++) {
      try {
        const eps = runningEndpoints();
        await etcdctlAsync(eps, ['del', '--prefix', FILLER]);
        await relieveQuotaAsync(eps);
        note('  etcd space freed (compacted, defragmented, alarm disarmed)');
        return;
      } catch (err) {
        if (attempt >= 20) throw err;
        await sleep(1000);
      }
    }
  };

  const fault = (a: Action) => {
    if (
      'node' in a &&
      ['kill9', 'groupkill9', 'term', 'stop', 'partition'].includes(a.op) &&
      !usable(a.node)
    ) {
      note(`  skipped: ${a.node} is not up`);
      return;
    }
    switch (a.op) {
      case 'kill9':
        downed.add(a.node);
        agents.get(a.node)!.kill9();
        break;
      case 'groupkill9':
        downed.add(a.node);
        agents.get(a.node)!.groupKill9();
        break;
      case 'term':
        downed.add(a.node);
        agents.get(a.node)!.term();
        break;
      case 'stop':
        agents.get(a.node)!.pause();
        frozen.push({ node: a.node, from: Date.now(), to: Infinity });
        break;
      case 'cont': {
        const f = frozen.find((x) => x.node === a.node && x.to === Infinity);
        if (!f) return;
        agents.get(a.node)!.resume();
        f.to = Date.now();
        break;
      }
      case 'partition':
        for (const p of proxies.get(a.node)!) p.cut();
        break;
      case 'heal':
        for (const p of proxies.get(a.node)!) p.heal();
        break;
      case 'start':
        if (downed.delete(a.node)) bg(restart(a.node));
        break;
      case 'etcd-kill':
        if (etcd.members.filter((m) => m.running).length < 3) {
          note('  skipped: a member is already down');
          return;
        }
        bg(etcd.members[a.member].stop());
        break;
      case 'etcd-start':
        if (!etcd.members[a.member].running) bg(etcd.members[a.member].start(false));
        break;
      case 'fill':
        filling = fill();
        bg(filling);
        break;
      case 'relieve':
        bg(relieve());
        break;
      default:
        // Job and node operations are not faults: the plan's loop hands them to jobOp and setCordon.
        break;
    }
  };

  try {
    await etcd.start();
    cluster = connect({ endpoints: etcd.endpoints, prefix: PREFIX });
    for (const id of NODES) {
      const list: TcpProxy[] = [];
      for (const m of etcd.members) {
        const p = new TcpProxy('127.0.0.1', m.clientPort);
        await p.start();
        list.push(p);
      }
      proxies.set(id, list);
      startAgent(id);
    }
    await waitFor(
      'the 4 agents to join and elect a leader',
      async () => {
        const nodes = await store().listNodes();
        return NODES.every((id) => nodes.some((n) => n.id === id && n.alive)) && nodes.some((n) => n.leader);
      },
      60_000,
    );
    for (const j of NEMESIS_JOBS) await applyJob(j.name);
    t0.at = Date.now();
    note(`seed ${seed}, ${durationMs / 1000} s, ${plan.length} actions; ledger ${ledger}`);
    let ops = Promise.resolve();
    for (const a of plan) {
      await sleep(t0.at + a.at - Date.now());
      note(describeAction(a));
      if ('job' in a) ops = ops.then(() => jobOp(a));
      else if (a.op === 'cordon' || a.op === 'drain' || a.op === 'uncordon') {
        const mode = a.op === 'uncordon' ? null : a.op;
        ops = ops.then(() =>
          setCordon(store(), a.node, mode, 'nemesis').catch((err) =>
            note(`  refused: ${(err as Error).message}`),
          ),
        );
      } else fault(a);
    }
    await sleep(t0.at + durationMs - Date.now());
    await ops;

    // Heal everything, so the end state can be judged.
    note('healing: SIGCONT, partitions healed, etcd members and agents restarted, space freed');
    for (const f of frozen.filter((x) => x.to === Infinity)) {
      agents.get(f.node)!.resume();
      f.to = Date.now();
    }
    for (const list of proxies.values()) for (const p of list) p.heal();
    for (const m of etcd.members) if (!m.running) await m.start(false);
    if (filling) await relieve().catch((err) => note(`  freeing space: ${(err as Error).message}`));
    await Promise.all([...background]);
    for (const id of NODES) if (!agents.get(id)!.alive || downed.delete(id)) await restart(id);
    for (const id of NODES) await setCordon(store(), id, null, 'nemesis').catch(() => undefined);
    await waitFor(
      'the 4 agents live again',
      async () => (await store().listNodes()).filter((n) => n.alive).length === NODES.length,
      90_000,
    ).catch(() => note('  not every agent is live again after 90 s'));
    // Quiet: pause every job; runs in flight end; nothing may stay in flight or held.
    const to = Date.now();
    note('quiet: pausing every job');
    for (const j of NEMESIS_JOBS) {
      if (lives.get(j.name)!.since === undefined) continue;
      await store()
        .setPaused(j.name, true)
        .catch((err) => note(`  pause ${j.name}: ${(err as Error).message}`));
    }
    const leftovers = async () => ({
      active: (await cluster!.ns.getAll().prefix(keys.active).keys()).map(String),
      slots: (await cluster!.ns.getAll().prefix(keys.semaphores).keys()).map(String),
      alive: readSpans(ledger).filter(spanRunning),
    });
    const readRuns = async () => {
      const runs = new Map<string, RunRecord[]>();
      for (const j of NEMESIS_JOBS) runs.set(j.name, await store().listRuns(j.name, 1_000_000));
      return runs;
    };
    // Quiet until nothing is in flight, held or `running`, judged on one snapshot (the runs,
    // then what is left): an agent whose watch lags may still claim a time of a job paused
    // seconds ago, and a claim is `running` before its process starts at its time. Looking
    // at the leftovers first and the runs afterwards took such a claim for a run gone.
    let runs = await readRuns();
    let leftover = await leftovers();
    const quietUntil = Date.now() + 45_000;
    const running = () => [...runs.values()].some((list) => list.some((r) => r.status === 'running'));
    while (
      Date.now() < quietUntil &&
      (leftover.active.length || leftover.slots.length || leftover.alive.length || running())
    ) {
      await sleep(500);
      runs = await readRuns();
      leftover = await leftovers();
    }
    const violations = check(NEMESIS_JOBS, {
      spans: readSpans(ledger),
      runs,
      lives,
      frozen,
      from: t0.at,
      to,
      leftover,
    });
    return { seed, durationMs, violations, log, dir };
  } finally {
    closing.done = true;
    for (const a of agents.values()) {
      a.resume();
      a.groupKill9();
    }
    killSpans(readSpans(ledger));
    for (const list of proxies.values()) for (const p of list) await p.stop();
    cluster?.close();
    filler?.close();
    await etcd.destroy();
  }
}

/** Removes a run's directory (kept on failure, for the agents' logs). */
export function removeNemesisDir(result: NemesisResult): void {
  rmSync(result.dir, { recursive: true, force: true });
}
