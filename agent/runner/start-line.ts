// A start line: every run due at the same instant waits on one shared FIFO, and
// one write then one close releases them all at once. Writing to one pipe per run costs a
// syscall and a wake-up each, and on a busy machine the runs released first
// preempt the agent before it has released the rest (measured: 33 releases
// spread over 20-130 ms).
//
// EOF alone cannot tell a release from an agent that died (the kernel closes the
// writer then too), so the agent writes one newline per released run before closing:
// each waiting shell reads one byte (a shell's `read` takes a byte at a time from a
// pipe), and a run that reads EOF instead exits without running. A run not to be
// started is killed before the write: once kill() has returned, a SIGKILLed process
// never runs another instruction of its own. It may still take a newline in the kernel
// on its way out (a reader woken by the kill finds the data first), so there is one
// newline for every process that ever joined the line, not only for the released ones:
// a spare newline is read by nobody.
// The runs hold the FIFO as an inherited descriptor; its path is unlinked as soon as it
// is open, so a run-as user never needs to reach the agent's (private) data directory.
// While the spawner runs (spawner.ts), it forks the runs and holds the line instead (a plain
// pipe there): the agent tells it which runs to kill, then to fire, in that order.
import { spawnSync } from 'node:child_process';
import { closeSync, constants, openSync, readdirSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { liveSpawner, type RemoteLine } from './spawner';

let seq = 0;
// A pipe fuller than its buffer (64 KiB, or 4 KiB past a user's pipe quota) empties as the runs
// read; this bounds the wait should they all be gone.
const WRITE_DEADLINE_MS = 5_000;

export interface LineMember {
  /** Kill the waiting process now: it was not released. Must signal synchronously. */
  lineMissed(): void;
  /** The line fired; `at` is when. */
  lineFired(at: number): void;
}

export class StartLine {
  /** The read end the runs inherit; -1 when the spawner holds the line. */
  readonly fd: number = -1;
  private writeFd = -1;
  /** The line as the spawner holds it, if it does. */
  readonly remote: RemoteLine | undefined;
  private joined = new Set<LineMember>();
  private released = new Set<LineMember>();
  /** Every process that joined, gone or not: each may take a newline. */
  private members = 0;
  private done = false;

  /** Throws if the FIFO cannot be made; callers fall back to private gate pipes. */
  constructor(dir: string) {
    const spawner = liveSpawner();
    if (spawner) {
      this.remote = spawner.line();
      return;
    }
    const path = join(dir, `.start-${process.pid}-${++seq}`);
    const r = spawnSync('mkfifo', ['-m', '600', path]);
    if (r.status !== 0) throw new Error(`mkfifo ${path} failed: ${r.stderr?.toString().trim() || r.error}`);
    try {
      // O_RDWR never blocks on a FIFO; with a writer present the read end opens at once, blocking
      // (the runs inherit that one). Our end does not block: fire() must never hang the agent.
      this.writeFd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
      this.fd = openSync(path, constants.O_RDONLY);
    } finally {
      unlinkSync(path);
    }
  }

  /** Fired, or no run can join it any more (its spawner died). */
  get fired(): boolean {
    return this.done || (this.remote !== undefined && !this.remote.open);
  }

  join(run: LineMember): void {
    this.joined.add(run);
    this.members++;
  }

  /** The run is to start when the line fires. */
  release(run: LineMember): void {
    if (this.joined.has(run)) this.released.add(run);
  }

  /** The run's waiting process is gone or going (cancelled, died). */
  leave(run: LineMember): void {
    this.joined.delete(run);
    this.released.delete(run);
  }

  fire(): void {
    if (this.done) return;
    this.done = true;
    for (const run of [...this.joined]) if (!this.released.has(run)) run.lineMissed();
    const at = Date.now();
    if (this.remote) this.remote.fire(this.released.size > 0);
    else
      try {
        if (this.released.size > 0) writeNewlines(this.writeFd, this.members);
      } finally {
        closeSync(this.writeFd); // runs past the newlines read EOF now
        closeSync(this.fd);
      }
    for (const run of this.released) run.lineFired(at);
    this.joined.clear();
    this.released.clear();
  }
}

function writeNewlines(fd: number, count: number): void {
  const buf = Buffer.alloc(count, 0x0a);
  const until = Date.now() + WRITE_DEADLINE_MS;
  for (let off = 0; off < buf.length;) {
    try {
      off += writeSync(fd, buf, off);
    } catch (err) {
      // Full: the runs already woken are reading; a run left without its newline exits unstarted.
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || Date.now() > until) return;
    }
  }
}

/** Removes FIFOs and go files an earlier agent process left behind (it died before removing them). */
export function clearStaleStartLines(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) if (n.startsWith('.start-')) rmSync(join(dir, n), { force: true });
}
