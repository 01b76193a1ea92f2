// The nemesis's jobs: every kind and policy, each writing spans (test/harness/spans.ts)
// to one ledger file. `edit` flips a job's variant (its run lasts a little longer or
// shorter): a spec change that keeps the schedule, so its times stay comparable.
import { spanCommand } from '../harness/spans';

export interface NemesisJob {
  name: string;
  /** Whole-second cron period (ms) when every scheduled time must be accounted for. */
  periodMs?: number;
  /** Spans of these jobs never overlap (loops, or jobs sharing a mutex). */
  singleCopy?: string;
  /** Most runs of this job alive at once. */
  concurrency?: number;
  yaml(ledger: string, variant: number): string;
}

const q = (s: string) => JSON.stringify(s);
const cron = (name: string, schedule: string, extra: string, cmd: string) =>
  `name: ${name}\nkind: cron\nschedule: ${q(schedule)}\n${extra}command: ${q(cmd)}\n`;

export const NEMESIS_JOBS: NemesisJob[] = [
  {
    name: 'tick',
    periodMs: 1000,
    yaml: (l, v) => cron('tick', '* * * * * *', '', spanCommand(l, 0.25 * v)),
  },
  {
    name: 'tick-alo',
    periodMs: 2000,
    yaml: (l, v) =>
      cron('tick-alo', '*/2 * * * * *', 'policy: at-least-once\n', spanCommand(l, 0.5 + 0.25 * v)),
  },
  {
    name: 'loop',
    singleCopy: 'loop',
    yaml: (l, v) =>
      `name: loop\nkind: loop\ntimes: 0\ndelay: 500ms\ncommand: ${q(spanCommand(l, 2 + 0.5 * v))}\n`,
  },
  {
    name: 'mx-a',
    periodMs: 1000,
    singleCopy: 'mutex nem',
    yaml: (l, v) => cron('mx-a', '* * * * * *', 'mutex: nem\n', spanCommand(l, 0.5 + 0.25 * v)),
  },
  {
    name: 'mx-b',
    periodMs: 2000,
    singleCopy: 'mutex nem',
    yaml: (l, v) => cron('mx-b', '*/2 * * * * *', 'mutex: nem\n', spanCommand(l, 0.5 + 0.25 * v)),
  },
  {
    name: 'conc',
    periodMs: 1000,
    concurrency: 2,
    yaml: (l, v) =>
      cron('conc', '* * * * * *', 'concurrency: 2\noverlap: allow\n', spanCommand(l, 2.5 + 0.5 * v)),
  },
  {
    name: 'retry',
    periodMs: 3000,
    yaml: (l, v) =>
      cron(
        'retry',
        '*/3 * * * * *',
        'retries: { count: 2, backoff: 1s }\n',
        `${spanCommand(l, 0.25 * v)}; exit 1`,
      ),
  },
  {
    name: 'parent',
    periodMs: 3000,
    yaml: (l, v) => cron('parent', '*/3 * * * * *', '', spanCommand(l, 0.25 * v)),
  },
  {
    name: 'child',
    yaml: (l, v) =>
      `name: child\nkind: once\nafter: [parent]\ncommand: ${q(spanCommand(l, 0.25 + 0.25 * v))}\n`,
  },
  {
    name: 'manual',
    yaml: (l, v) => `name: manual\nkind: once\ncommand: ${q(spanCommand(l, 1 + 0.5 * v))}\n`,
  },
];

export function nemesisJob(name: string): NemesisJob {
  const j = NEMESIS_JOBS.find((x) => x.name === name);
  if (!j) throw new Error(`no nemesis job ${name}`);
  return j;
}
