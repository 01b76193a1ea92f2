// Releases every prepared run due at the same instant from one timer, through one
// start line (see runner/start-line.ts): one write starts them all, instead of a
// pipe write per run during which the runs released first take the CPU.
import { StartLine } from '../runner/start-line';

/** Below this much time before the release, a run is started on its own pipe. */
const MIN_LEAD_MS = 20;

export class ReleaseClock {
  private due = new Map<number, { fns: (() => void)[]; line: StartLine | undefined }>();
  private linesBroken = false;

  constructor(
    private readonly lineDir: string,
    private readonly log: (msg: string) => void,
  ) {}

  /** The start line for runs released at `time`, if one is worth having. */
  line(time: number): StartLine | undefined {
    if (this.linesBroken || time - Date.now() < MIN_LEAD_MS) return undefined;
    const slot = this.slot(time);
    if (!slot.line) {
      try {
        slot.line = new StartLine(this.lineDir);
      } catch (err) {
        this.linesBroken = true;
        this.log(`start lines unavailable (${(err as Error).message}); releasing runs one by one`);
      }
    }
    return slot.line;
  }

  at(time: number, fn: () => void): void {
    if (time - Date.now() <= 0 && !this.due.has(time)) {
      fn();
      return;
    }
    this.slot(time).fns.push(fn);
  }

  private slot(time: number) {
    let slot = this.due.get(time);
    if (!slot) {
      const s = { fns: [] as (() => void)[], line: undefined as StartLine | undefined };
      this.due.set(time, s);
      setTimeout(
        () => {
          this.due.delete(time);
          for (const f of s.fns) f();
          s.line?.fire();
        },
        Math.max(0, time - Date.now()),
      );
      slot = s;
    }
    return slot;
  }
}
