// Control groups for runs: each run gets its own group, /peppercorn/<agent>/<run> in every
// hierarchy the node has, so that its limits apply to the whole process tree, its memory kill is
// counted where we can read it after the run, and a timeout or stop kills every descendant (a
// grandchild that called setsid has left the process group, but not the cgroup).
//
// Layouts (read from /proc/self/mounts at start):
// - v2 (unified at /sys/fs/cgroup): kill with cgroup.kill; memory.max, pids.max, cpu.max where the
//   root offers those controllers; the OOM count from memory.events.
// - hybrid (v1 controllers plus a controller-less unified hierarchy at /sys/fs/cgroup/unified):
//   kill through the unified one (cgroup.kill), limits through the v1 memory, pids and cpu
//   hierarchies; the OOM count from memory.oom_control.
// - v1 only: limits as in hybrid; kill by signalling the group's members until none is left.
// Groups sit at the hierarchies' roots, not under the agent's own group, so one path names the run
// in every hierarchy (a container runtime takes it as --cgroup-parent). Creating them needs root.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type Controller = 'memory' | 'pids' | 'cpu';
const CONTROLLERS: readonly Controller[] = ['memory', 'pids', 'cpu'];

export interface CgroupLayout {
  mode: 'v2' | 'hybrid' | 'v1' | 'none';
  /** Mount point of the unified hierarchy, if any. */
  unified?: string;
  /** Controllers enabled-able in the unified hierarchy (its root's cgroup.controllers). */
  unifiedControllers: Controller[];
  /** v1 mount point per controller. */
  v1: Partial<Record<Controller, string>>;
  /** Every cgroup mount: a container runtime makes a run's parent group in each, all are cleaned. */
  mounts: string[];
}

/** Where each limit is enforced on this layout: 'v2', 'v1', or undefined (no cgroup for it). */
export function limitHome(layout: CgroupLayout, c: Controller): 'v2' | 'v1' | undefined {
  if (layout.unified && layout.unifiedControllers.includes(c)) return 'v2';
  if (layout.v1[c]) return 'v1';
  return undefined;
}

/** Pure: the layout from /proc/self/mounts and the unified root's cgroup.controllers. */
export function parseCgroupMounts(mounts: string, unifiedControllers = ''): CgroupLayout {
  let unified: string | undefined;
  const v1: Partial<Record<Controller, string>> = {};
  const all: string[] = [];
  for (const line of mounts.split('\n')) {
    const [, where, type, opts] = line.split(' ');
    if (type === 'cgroup' || type === 'cgroup2') all.push(where);
    if (type === 'cgroup2') unified ??= where;
    else if (type === 'cgroup') {
      const options = (opts ?? '').split(',');
      for (const c of CONTROLLERS) if (options.includes(c)) v1[c] ??= where;
    }
  }
  const hasV1 = Object.keys(v1).length > 0;
  const offered = unifiedControllers
    .split(/\s+/)
    .filter((c): c is Controller => (CONTROLLERS as readonly string[]).includes(c));
  const mode = unified ? (hasV1 ? 'hybrid' : 'v2') : hasV1 ? 'v1' : 'none';
  return { mode, unified, unifiedControllers: unified ? offered : [], v1, mounts: all };
}

export function readCgroupLayout(): CgroupLayout {
  let mounts = '';
  try {
    mounts = readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    return { mode: 'none', unifiedControllers: [], v1: {}, mounts: [] };
  }
  const first = parseCgroupMounts(mounts);
  let offered = '';
  if (first.unified) {
    try {
      offered = readFileSync(join(first.unified, 'cgroup.controllers'), 'utf8');
    } catch {
      /* no controllers */
    }
  }
  return parseCgroupMounts(mounts, offered);
}

/** A directory or file name from an id: keeps [A-Za-z0-9_.-], replaces the rest. */
function safeName(id: string): string {
  return id.replace(/[^A-Za-z0-9_.-]/g, '_');
}

const readText = (file: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};

/** The number after `key` in a flat-keyed cgroup file ("oom_kill 1"). */
function counter(text: string, key: string): number {
  const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** The node's run groups: created once per agent, one RunCgroup per run. */
export class NodeCgroups {
  /** Relative to every hierarchy's root. */
  readonly base: string;
  /** Why groups cannot be made here (not root, read-only, no cgroup fs); undefined when they can. */
  readonly unavailable: string | undefined;
  /** Can kill a whole run tree at once (unified hierarchy with cgroup.kill). */
  readonly canKillTree: boolean;

  constructor(
    readonly layout: CgroupLayout,
    /** The agent instance (see isolation.ts): its groups, cleaned up by its successor. */
    agentKey: string,
  ) {
    this.base = `/peppercorn/${safeName(agentKey)}`;
    let problem: string | undefined;
    if (layout.mode === 'none') problem = 'no cgroup file system is mounted';
    else {
      try {
        for (const root of this.roots()) mkdirSync(join(root, this.base), { recursive: true });
        if (layout.unified) {
          // Controllers must be enabled on every level above a run's group (v2 only).
          const enable = layout.unifiedControllers.map((c) => `+${c}`).join(' ');
          if (enable) {
            for (const dir of ['', '/peppercorn', this.base])
              writeFileSync(join(layout.unified, dir, 'cgroup.subtree_control'), enable);
          }
        }
      } catch (err) {
        problem = `cannot create ${this.base} in the cgroup hierarchies (${(err as Error).message}); run the agent as root`;
      }
    }
    this.unavailable = problem;
    this.canKillTree =
      !problem && !!layout.unified && existsSync(join(layout.unified, this.base, 'cgroup.kill'));
  }

  /**
   * Mount points of the hierarchies a group lives in, the one that lists and kills its members
   * first: the unified one, plus the v1 hierarchies of the controllers it limits. A group per run
   * in every v1 hierarchy would cost a memory cgroup (slow to free) for each run of every job.
   */
  roots(controllers: readonly Controller[] = CONTROLLERS): string[] {
    const out = new Set<string>();
    const { unified, v1 } = this.layout;
    if (unified) out.add(unified);
    else {
      const any = v1.pids ?? v1.memory ?? v1.cpu;
      if (any) out.add(any);
    }
    for (const c of controllers) if (limitHome(this.layout, c) === 'v1') out.add(v1[c]!);
    return [...out];
  }

  /** One line for the agent's log and node label: how limits and tree kills work here. */
  describe(): string {
    if (this.unavailable) return `cgroups: none (${this.unavailable}); limits fall back to prlimit`;
    const homes = CONTROLLERS.map((c) => `${c}:${limitHome(this.layout, c) ?? 'none'}`).join(' ');
    return `cgroups: ${this.layout.mode} (${homes}; whole-tree kill: ${this.canKillTree ? 'cgroup.kill' : 'signal each member'})`;
  }

  /** The run's group path, relative to each hierarchy's root (for --cgroup-parent). */
  runPath(runId: string): string {
    return `${this.base}/${safeName(runId)}`;
  }

  /** Creates the run's group with its limits. Throws a readable Error. */
  create(runId: string, limits: CgroupLimits = {}): RunCgroup {
    if (this.unavailable) throw new Error(this.unavailable);
    return new RunCgroup(this, this.runPath(runId), limits);
  }

  /** Removes the agent's own parent group (empty once its runs are done); best effort. */
  removeBase(): void {
    if (this.unavailable) return;
    for (const root of this.layout.mounts) {
      try {
        rmdirSync(join(root, this.base));
      } catch {
        /* a run's group is still being removed, or it was never made: the next agent reuses it */
      }
    }
  }

  /** Kills and removes the groups an earlier agent with this node id left behind. */
  async cleanupStale(): Promise<string[]> {
    if (this.unavailable) return [];
    const found = new Set<string>();
    for (const root of this.layout.mounts) {
      let names: string[] = [];
      try {
        names = readdirSync(join(root, this.base), { withFileTypes: true })
          .filter((d) => d.isDirectory())
          .map((d) => d.name);
      } catch {
        continue;
      }
      for (const n of names) found.add(n);
    }
    await Promise.all(
      [...found].map((name) => {
        const g = new RunCgroup(this, `${this.base}/${name}`, {}, false);
        g.kill();
        return g.remove();
      }),
    );
    return [...found];
  }
}

/** Limits in the units cgroups take. */
export interface CgroupLimits {
  memoryBytes?: number;
  pids?: number;
  cpu?: number;
}

const CPU_PERIOD_US = 100_000;

function controllersOf(l: CgroupLimits): Controller[] {
  return CONTROLLERS.filter((c) => (c === 'memory' ? l.memoryBytes : l[c]) !== undefined);
}

export class RunCgroup {
  /** The run's directory in every hierarchy. */
  readonly dirs: string[];

  constructor(
    private readonly node: NodeCgroups,
    readonly path: string,
    limits: CgroupLimits,
    make = true,
  ) {
    this.dirs = node.roots(controllersOf(limits)).map((r) => join(r, path));
    if (!make) return;
    for (const d of this.dirs) mkdirSync(d, { recursive: true });
    try {
      this.applyLimits(limits);
    } catch (err) {
      this.removeSoon();
      throw err;
    }
  }

  private dirFor(c: Controller): { dir: string; v: 'v1' | 'v2' } | undefined {
    const { layout } = this.node;
    const home = limitHome(layout, c);
    if (home === 'v2') return { dir: join(layout.unified!, this.path), v: 'v2' };
    if (home === 'v1') return { dir: join(layout.v1[c]!, this.path), v: 'v1' };
    return undefined;
  }

  /** Controllers this node cannot limit (for a note in the run record). */
  static missing(node: NodeCgroups, limits: CgroupLimits): Controller[] {
    const want: Controller[] = [];
    if (limits.memoryBytes !== undefined) want.push('memory');
    if (limits.pids !== undefined) want.push('pids');
    if (limits.cpu !== undefined) want.push('cpu');
    return node.unavailable ? want : want.filter((c) => !limitHome(node.layout, c));
  }

  private applyLimits(l: CgroupLimits): void {
    const put = (c: Controller, file: string, value: string, optional = false) => {
      const at = this.dirFor(c);
      if (!at) return;
      try {
        writeFileSync(join(at.dir, file), value);
      } catch (err) {
        if (!optional) throw new Error(`cannot set ${file} of ${at.dir}: ${(err as Error).message}`);
      }
    };
    if (l.memoryBytes !== undefined) {
      const b = String(l.memoryBytes);
      if (this.dirFor('memory')?.v === 'v2') {
        put('memory', 'memory.max', b);
        put('memory', 'memory.swap.max', '0', true); // the limit is the memory, not memory plus swap
      } else {
        put('memory', 'memory.limit_in_bytes', b);
        put('memory', 'memory.memsw.limit_in_bytes', b, true); // absent without swap accounting
      }
    }
    if (l.pids !== undefined) put('pids', 'pids.max', String(l.pids));
    if (l.cpu !== undefined) {
      const quota = String(Math.max(1000, Math.round(l.cpu * CPU_PERIOD_US)));
      if (this.dirFor('cpu')?.v === 'v2') put('cpu', 'cpu.max', `${quota} ${CPU_PERIOD_US}`);
      else {
        put('cpu', 'cpu.cfs_period_us', String(CPU_PERIOD_US));
        put('cpu', 'cpu.cfs_quota_us', quota);
      }
    }
  }

  /** Moves a process (the run's waiting shell, before it is released) into the group. */
  adopt(pid: number): void {
    for (const d of this.dirs) writeFileSync(join(d, 'cgroup.procs'), String(pid));
  }

  /** Every process in the group, including those in sub-groups (a container's). */
  members(): number[] {
    const pids = new Set<number>();
    const walk = (dir: string) => {
      for (const p of readText(join(dir, 'cgroup.procs')).split('\n')) if (p) pids.add(Number(p));
      let subs: string[] = [];
      try {
        subs = readdirSync(dir, { withFileTypes: true })
          .filter((e) => e.isDirectory())
          .map((e) => e.name);
      } catch {
        return;
      }
      for (const s of subs) walk(join(dir, s));
    };
    walk(this.dirs[0]);
    return [...pids];
  }

  /** Sends a signal to every member (the polite half of a whole-tree stop). */
  signal(sig: NodeJS.Signals): void {
    for (const pid of this.members()) {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  }

  /** Kills every process in the group and its sub-groups; nothing escapes a cgroup.kill. */
  kill(): void {
    if (this.node.canKillTree) {
      try {
        writeFileSync(join(this.dirs[0], 'cgroup.kill'), '1');
        return;
      } catch {
        /* fall through: signal each member */
      }
    }
    // Without cgroup.kill a forking member can add a process between reading and killing: repeat.
    for (let round = 0; round < 10; round++) {
      const members = this.members();
      if (!members.length) return;
      for (const pid of members) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
  }

  /**
   * Times the kernel's OOM killer killed a process of this group or of a sub-group (a container's,
   * whose limit its runtime set). v2 counts sub-groups in memory.events; v1 counts each group
   * alone, so its sub-groups are read too, and only while they exist.
   */
  oomKills(): number {
    const at = this.dirFor('memory');
    if (!at) return 0;
    if (at.v === 'v2') return counter(readText(join(at.dir, 'memory.events')), 'oom_kill');
    let total = 0;
    const walk = (dir: string) => {
      total += counter(readText(join(dir, 'memory.oom_control')), 'oom_kill');
      try {
        for (const e of readdirSync(dir, { withFileTypes: true }))
          if (e.isDirectory()) walk(join(dir, e.name));
      } catch {
        /* removed meanwhile */
      }
    };
    walk(at.dir);
    return total;
  }

  /** Removes the group's directories (deepest first); retried while killed members finish exiting. */
  async remove(): Promise<void> {
    for (let attempt = 0; attempt < 40; attempt++) {
      if (this.tryRemove()) return;
      if (attempt === 5) this.kill();
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  removeSoon(): void {
    void this.remove();
  }

  private tryRemove(): boolean {
    let ok = true;
    const rm = (dir: string) => {
      if (!existsSync(dir)) return;
      try {
        for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) rm(join(dir, e.name));
        rmdirSync(dir);
      } catch {
        ok = false;
      }
    };
    for (const root of this.node.layout.mounts) rm(join(root, this.path));
    return ok;
  }
}
