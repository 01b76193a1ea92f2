// A start line: every run due at the same instant waits on one shared FIFO, and
// closing it releases them all at once. Writing to one pipe per run costs a
// syscall and a wake-up each, and on a busy machine the runs released first
// preempt the agent before it has released the rest (measured: 33 releases
// spread over 20-130 ms). Closing the FIFO's only writer wakes every reader.
//
// EOF alone cannot tell a release from an agent that died (the kernel closes the
// writer then too), so the agent first creates a "go" file, which each run checks
// after EOF. A run not to be started is killed before the line fires: once kill()
// has returned, a SIGKILLed process never runs another instruction of its own.
// The FIFO is unlinked as soon as it is open; the go file is removed shortly after.
import { spawnSync } from 'node:child_process';
import { closeSync, constants, openSync, readdirSync, unlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';

let seq = 0;
const GO_FILE_KEEP_MS = 60_000;

export interface LineMember {
  /** Kill the waiting process now: it was not released. Must signal synchronously. */
  lineMissed(): void;
  /** The line fired; `at` is when. */
  lineFired(at: number): void;
}

export class StartLine {
  readonly fd: number;
  readonly goFile: string;
  private writeFd: number;
  private joined = new Set<LineMember>();
  private released = new Set<LineMember>();
  private done = false;

  /** Throws if the FIFO cannot be made; callers fall back to private gate pipes. */
  constructor(dir: string) {
    const path = join(dir, `.start-${process.pid}-${++seq}`);
    this.goFile = `${path}.go`;
    const r = spawnSync('mkfifo', ['-m', '600', path]);
    if (r.status !== 0) throw new Error(`mkfifo ${path} failed: ${r.stderr?.toString().trim() || r.error}`);
    try {
      // O_RDWR never blocks on a FIFO; with a writer present the read end opens at once, blocking.
      this.writeFd = openSync(path, constants.O_RDWR);
      this.fd = openSync(path, constants.O_RDONLY);
    } finally {
      unlinkSync(path);
    }
  }

  get fired(): boolean {
    return this.done;
  }

  join(run: LineMember): void {
    this.joined.add(run);
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
    const go = this.released.size > 0;
    try {
      if (go) closeSync(openSync(this.goFile, constants.O_CREAT | constants.O_WRONLY, 0o600));
    } finally {
      closeSync(this.writeFd); // every waiting run reads EOF now
      closeSync(this.fd);
    }
    if (go) setTimeout(() => rmSync(this.goFile, { force: true }), GO_FILE_KEEP_MS).unref();
    for (const run of this.released) run.lineFired(at);
    this.joined.clear();
    this.released.clear();
  }
}

/** Removes go files an earlier agent process left behind (it died before removing them). */
export function clearStaleStartLines(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) if (n.startsWith('.start-')) rmSync(join(dir, n), { force: true });
}
