// The spawner: a small long-lived process (spawner-script.ts, in Perl) that forks the runs'
// waiting shells for the agent. A fork of the agent (a ~120 MB Node process, with three pipes per
// run) costs it 2-4 ms of CPU per run; the agent now writes one short record to a pipe instead and
// reads the run's pid, output and exit back from one pipe shared by every run.
//
// Measured on this machine, CPU of the forking process per waiting shell (setpriv + sh):
//   Node 24, 46 MB (an empty Node: the candidate "minimal Node spawner")  2.1 ms
//   Node 24, the agent                                                  3-4 ms
//   bash (coprocess)      0.33 ms     dash  0.17 ms     Perl  0.20 ms     C  0.12 ms
// A shell cannot wait for its children while it reads requests, nor make a pipe; C would have to
// be cross-built for every architecture we ship. Perl is on every Debian/Ubuntu (perl-base).
//
// Failure: the spawner dies with the agent (a parent-death signal), and the runs it forked die
// with it. If it alone is killed, every run it held is reported here as ended by SIGKILL with the
// reason (exec.ts records it; nothing runs twice: a run is never re-spawned), and a new spawner is
// started; runs prepared while none is alive are forked by the agent itself, as before.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { constants } from 'node:os';
import { Readable } from 'node:stream';
import { GATE_SCRIPT, SETPRIV } from './gate';
import { SPAWNER_SCRIPT } from './spawner-script';
import { signalGroup } from './procgroup';
import { reaperRemove } from './reaper';

const PERL = ['/usr/bin/perl', '/bin/perl'].find((p) => existsSync(p));

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>(
  Object.entries(constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]),
);
const ERRNO_NAMES = new Map<number, string>(Object.entries(constants.errno).map(([name, n]) => [n, name]));

// Restarted after a death unless it died this often within RESTART_WINDOW_MS (then it is broken).
const MAX_QUICK_DEATHS = 5;
const RESTART_WINDOW_MS = 10_000;

export interface RemoteSpawnOptions {
  env: Record<string, string>;
  cwd?: string;
  uid?: number;
  gid?: number;
  line?: RemoteLine;
  /** cgroup.procs files the child writes itself into before it execs. */
  cgroupProcs?: string[];
  /** Niceness the child takes before it execs. */
  nice?: number;
}

/** A run's waiting shell forked by the spawner; looks like the ChildProcess exec.ts drives. */
export class RemoteChild extends EventEmitter {
  pid: number | undefined;
  /** stdout and stderr, interleaved in one pipe. */
  readonly stdout: Readable;
  readonly stderr = null;
  readonly stdio: [null, Readable, null, RemoteGate];
  /** Set when the spawner died with this run: why the run ended. */
  lost: string | undefined;
  /** The spawn failed (an 'error' was emitted; no 'exit' follows). */
  failed = false;
  exited = false;
  paused = false;

  constructor(
    readonly spawner: Spawner,
    readonly id: number,
  ) {
    super();
    this.stdout = new Readable({
      read: () => {
        if (this.paused) {
          this.paused = false;
          spawner.send(['z', id]);
        }
      },
    });
    this.stdio = [null, this.stdout, null, new RemoteGate(this)];
  }

  /** Signals the run's process group, unless the spawner has already reaped it. */
  signalGroup(signal: NodeJS.Signals): void {
    if (this.exited || this.failed) return;
    this.spawner.send(['K', this.id, signal]);
  }
}

/** The run's own gate (fd 3), opened or closed through the spawner. */
class RemoteGate {
  private done = false;
  constructor(private readonly child: RemoteChild) {}
  end(): void {
    this.close('R');
  }
  destroy(): void {
    this.close('C');
  }
  on(): this {
    return this;
  }
  private close(op: 'R' | 'C'): void {
    if (this.done) return;
    this.done = true;
    this.child.spawner.send([op, this.child.id]);
  }
}

/** A start line held by the spawner: its members are forked onto it, and it fires there. */
export class RemoteLine {
  private fired = false;
  constructor(
    readonly spawner: Spawner,
    readonly id: number,
  ) {
    spawner.send(['L', id]);
  }
  /** Runs can still join: not fired, and its spawner is alive. */
  get open(): boolean {
    return !this.fired && this.spawner.alive;
  }
  /** One newline per member if `release`, then closed; members left read EOF and exit. */
  fire(release: boolean): void {
    if (this.fired) return;
    this.fired = true;
    this.spawner.send(['F', this.id, release ? 1 : 0]);
  }
}

export class Spawner {
  alive = true;
  /** It said hello: perl compiled its program and reads requests. Until then runs are forked locally. */
  ready = false;
  private readonly readyWaiters: ((ok: boolean) => void)[] = [];
  private readonly proc: ChildProcess;
  private readonly runs = new Map<number, RemoteChild>();
  private nextId = 1;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private queued: string[] = [];
  private flushScheduled = false;

  constructor(
    perl: string,
    setpriv: string,
    private readonly onDeath: (why: string) => void,
  ) {
    // Its environment is empty: what a run needs travels in its request, and nothing of the
    // agent's (its secrets) is in the spawner's /proc/<pid>/environ. Interrupts are the agent's to
    // handle (it stops its runs with their grace); the spawner ignores them.
    this.proc = spawn(setpriv, ['--pdeathsig', 'KILL', perl, '-e', SPAWNER_SCRIPT, setpriv, GATE_SCRIPT], {
      env: {},
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.proc.on('error', (err) => this.died(`could not start it: ${err.message}`));
    // 'close', not 'exit': frames still in the pipe (a run's exit just before) are read first.
    this.proc.on('close', (code, sig) => this.died(sig ? `signal ${sig}` : `exit code ${code}`));
    this.proc.stdin!.on('error', () => undefined); // EPIPE after a death; 'exit' reports it
    this.proc.stdout!.on('data', (c: Buffer) => this.onData(c));
    this.proc.unref();
    this.idle();
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  spawn(command: string, o: RemoteSpawnOptions): RemoteChild {
    const id = this.nextId++;
    const child = new RemoteChild(this, id);
    this.runs.set(id, child);
    if (this.runs.size === 1) this.busy();
    const env = Object.entries(o.env).map(([k, v]) => `${k}=${v}`);
    const cg = o.cgroupProcs ?? [];
    this.send([
      'S',
      id,
      o.line?.id ?? 0,
      o.uid ?? '',
      o.gid ?? '',
      o.cwd ?? '',
      o.nice ?? '',
      cg.length,
      ...cg,
      command,
      ...env,
    ]);
    return child;
  }

  line(): RemoteLine {
    return new RemoteLine(this, this.nextId++);
  }

  /** Requests written in one tick go out in one write. */
  send(fields: (string | number)[]): void {
    if (!this.alive) return;
    const rec = fields.join('\0');
    this.queued.push(`${Buffer.byteLength(rec)}:${rec}`);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    const out = this.queued.join('');
    this.queued = [];
    if (this.alive && out) this.proc.stdin!.write(out);
  }

  /** Ends the spawner (it kills whatever runs it still holds). */
  close(): void {
    this.proc.stdin!.end();
  }

  private onData(chunk: Buffer): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    let buf = this.pending.length === 1 ? chunk : Buffer.concat(this.pending, this.pendingBytes);
    let off = 0;
    while (buf.length - off >= 9) {
      const len = buf.readUInt32BE(off + 5);
      if (buf.length - off < 9 + len) break;
      this.frame(
        String.fromCharCode(buf[off]),
        buf.readUInt32BE(off + 1),
        buf.subarray(off + 9, off + 9 + len),
      );
      off += 9 + len;
    }
    buf = buf.subarray(off);
    this.pending = buf.length ? [buf] : [];
    this.pendingBytes = buf.length;
  }

  /** Resolves true once it is ready, false if it dies first. */
  whenReady(): Promise<boolean> {
    if (this.ready || !this.alive) return Promise.resolve(this.ready && this.alive);
    this.busy(); // someone waits for its hello
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  private frame(type: string, id: number, payload: Buffer): void {
    if (type === 'H') {
      this.ready = true;
      for (const w of this.readyWaiters.splice(0)) w(true);
      if (this.runs.size === 0) this.idle();
      return;
    }
    const child = this.runs.get(id);
    if (!child) return;
    switch (type) {
      case 'P':
        child.pid = Number(payload.toString());
        child.emit('spawn');
        return;
      case 'E': {
        const [stage, num] = payload.toString().split(' ');
        const code = ERRNO_NAMES.get(Number(num)) ?? `errno ${num}`;
        const err = Object.assign(new Error(`spawn ${stage} ${code}`), {
          code,
          errno: -Number(num),
          syscall: `spawn ${stage}`,
        });
        child.failed = true;
        this.forget(id);
        // After its P the child may be known: it never exec'd and is gone (exit 127, reaped there).
        reaperRemove(child.pid);
        child.pid = undefined;
        child.stdout.destroy();
        child.emit('error', err);
        return;
      }
      case 'O':
        // The spawner reuses nothing: the payload is ours to keep.
        if (!child.stdout.push(payload) && !child.paused) {
          child.paused = true;
          this.send(['Z', id]);
        }
        return;
      case 'X': {
        const [code, sig] = payload.toString().split(' ');
        child.exited = true;
        child.emit('exit', code === '-' ? null : Number(code), sig === '-' ? null : signalName(Number(sig)));
        return;
      }
      case 'D':
        this.forget(id);
        child.stdout.push(null);
        return;
    }
  }

  private forget(id: number): void {
    this.runs.delete(id);
    if (this.runs.size === 0) this.idle();
  }

  // Its pipe keeps the agent's event loop alive only while a run is waiting for it.
  private busy(): void {
    (this.proc.stdout as Socket).ref();
  }
  private idle(): void {
    (this.proc.stdout as Socket).unref();
  }

  private died(why: string): void {
    if (!this.alive) return;
    this.alive = false;
    for (const w of this.readyWaiters.splice(0)) w(false);
    const runs = [...this.runs.values()];
    this.runs.clear();
    this.idle();
    for (const child of runs) {
      // The kernel killed its first process (parent-death signal); a descendant that left the
      // group is the cgroup's or the reaper's. Whatever is left of the group goes now.
      signalGroup(child.pid, 'SIGKILL');
      child.lost = `the agent's spawner process ended (${why}) and took the run's process with it`;
      if (!child.exited) {
        child.exited = true;
        child.emit('exit', null, 'SIGKILL');
      }
      child.stdout.push(null);
    }
    this.onDeath(why);
  }
}

function signalName(n: number): NodeJS.Signals | null {
  return SIGNAL_NAMES.get(n) ?? null;
}

let current: Spawner | undefined;
let settings: { log: (msg: string) => void; deaths: number[] } | undefined;

/**
 * Starts the spawner for this process (the agent); idempotent. Returns false where it cannot run
 * (no perl or no setpriv): the agent then forks runs itself.
 */
export function startSpawner(opts: { log?: (msg: string) => void } = {}): boolean {
  if (current?.alive) return true;
  if (!PERL || !SETPRIV) {
    opts.log?.(
      `no ${PERL ? 'setpriv' : 'perl'} on this node: the agent forks each run itself (costs more CPU per launch)`,
    );
    return false;
  }
  settings = { log: opts.log ?? (() => undefined), deaths: [] };
  current = create(PERL, SETPRIV);
  return true;
}

function create(perl: string, setpriv: string): Spawner {
  const s: Spawner = new Spawner(perl, setpriv, (why) => {
    if (current !== s || !settings) return;
    current = undefined;
    const now = Date.now();
    settings.deaths = settings.deaths.filter((t) => now - t < RESTART_WINDOW_MS);
    settings.deaths.push(now);
    if (settings.deaths.length >= MAX_QUICK_DEATHS) {
      settings.log(
        `spawner process ended (${why}), ${MAX_QUICK_DEATHS} times in ${RESTART_WINDOW_MS / 1000} s: not restarting it; the agent forks each run itself`,
      );
      return;
    }
    settings.log(`spawner process ended (${why}); runs it held are recorded as failed; starting a new one`);
    current = create(perl, setpriv);
  });
  return s;
}

/** The live spawner, if any and ready: runs are forked through it. */
export function liveSpawner(): Spawner | undefined {
  return current?.alive && current.ready ? current : undefined;
}

/** Resolves true when a spawner is ready to fork runs (tests, benchmarks). */
export function whenSpawnerReady(): Promise<boolean> {
  return current ? current.whenReady() : Promise.resolve(false);
}

export function spawnerPid(): number | undefined {
  return liveSpawner()?.pid;
}

/** Stops the spawner and does not restart it (tests; the agent's exit closes it anyway). */
export function stopSpawner(): void {
  const s = current;
  current = undefined;
  settings = undefined;
  s?.close();
}
