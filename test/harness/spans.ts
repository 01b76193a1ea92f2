// A richer oracle than ledger.ts for runs that last: the command itself writes a line
// when it starts (S), every `beatMs` while it runs (H) and when it ends (E), each with
// its job, scheduled time, run id, node, its shell's pid and the time. A run killed
// with SIGKILL writes no E line; it was certainly alive up to its last line, so
// "alive at once" is judged on [start, last line seen], which never over-reports.
import { existsSync, readFileSync } from 'node:fs';
import { processRunning } from '../../agent/runner/procgroup';

/**
 * The command of a run that lasts `seconds` (0: just a start and an end line) and
 * proves it is alive every `beatMs`. `body` (optional) runs before the beats.
 */
export function spanCommand(file: string, seconds: number, beatMs = 250, body = ''): string {
  const beats = Math.max(0, Math.round((seconds * 1000) / beatMs));
  const mark = `l() { echo "$1 $PEPPERCORN_JOB $PEPPERCORN_SCHEDULED_AT $PEPPERCORN_RUN_ID $PEPPERCORN_NODE $$ $(date +%s%3N)" >> ${file}; }`;
  const loop = beats
    ? `i=0; while [ $i -lt ${beats} ]; do sleep ${beatMs / 1000}; l H; i=$((i+1)); done; `
    : '';
  return `${mark}; l S; ${body ? body + '; ' : ''}${loop}l E`;
}

export interface Span {
  job: string;
  scheduledAt: number;
  runId: string;
  node: string;
  pid: number;
  start: number;
  /** The last line this process wrote (its end, if it ended normally). */
  lastSeen: number;
  ended: boolean;
}

export interface SpanLine {
  mark: 'S' | 'H' | 'E';
  job: string;
  scheduledAt: number;
  runId: string;
  node: string;
  pid: number;
  at: number;
}

export function parseSpanLines(text: string): SpanLine[] {
  const out: SpanLine[] = [];
  for (const line of text.split('\n')) {
    const [mark, job, at, runId, node, pid, ms] = line.split(' ');
    if ((mark !== 'S' && mark !== 'H' && mark !== 'E') || ms === undefined) continue;
    out.push({ mark, job, scheduledAt: Date.parse(at), runId, node, pid: Number(pid), at: Number(ms) });
  }
  return out;
}

/** One span per process that started (S line); lines are matched by pid and run id. */
export function spansOf(lines: SpanLine[]): Span[] {
  const byProc = new Map<string, Span>();
  for (const l of lines) {
    const k = `${l.runId} ${l.pid}`;
    let s = byProc.get(k);
    if (l.mark === 'S') {
      if (s) continue; // pids are not reused within a test run in practice; keep the first
      s = { ...l, start: l.at, lastSeen: l.at, ended: false };
      byProc.set(k, s);
      continue;
    }
    if (!s) continue; // a beat without its start line (truncated file): ignore
    s.lastSeen = Math.max(s.lastSeen, l.at);
    if (l.mark === 'E') s.ended = true;
  }
  return [...byProc.values()];
}

export function readSpans(file: string): Span[] {
  return existsSync(file) ? spansOf(parseSpanLines(readFileSync(file, 'utf8'))) : [];
}

/** Run ids launched more than once (two processes announced the same run). */
export function launchedTwice(spans: Span[]): { runId: string; spans: Span[] }[] {
  const by = new Map<string, Span[]>();
  for (const s of spans) by.set(s.runId, [...(by.get(s.runId) ?? []), s]);
  return [...by].filter(([, l]) => l.length > 1).map(([runId, l]) => ({ runId, spans: l }));
}

/** Pairs of spans that were certainly alive at the same instant. */
export function overlapping(spans: Span[]): [Span, Span][] {
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  const out: [Span, Span][] = [];
  for (let i = 0; i < sorted.length; i++)
    for (let j = i + 1; j < sorted.length && sorted[j].start <= sorted[i].lastSeen; j++)
      if (sorted[j].start < sorted[i].lastSeen) out.push([sorted[i], sorted[j]]);
  return out;
}

export function describeSpan(s: Span): string {
  return `${s.runId} on ${s.node} (pid ${s.pid}) ${s.start}..${s.lastSeen}${s.ended ? '' : ' (no end line)'}`;
}

/**
 * Whether the span's own process still runs. A pid alone does not say so: pids wrap at
 * 32768 here, and on a busy machine a run's pid belongs to some other process minutes later,
 * so the process must also carry the span's run id in its environment.
 */
export function spanRunning(s: Span): boolean {
  if (!processRunning(s.pid)) return false;
  try {
    return readFileSync(`/proc/${s.pid}/environ`).includes(`PEPPERCORN_RUN_ID=${s.runId}\0`);
  } catch {
    return false; // gone meanwhile, or not ours to read
  }
}

/**
 * Test cleanup: SIGKILL the process group of every span still running (orphans of a failed
 * check); only spans whose process is still theirs, never a reused pid's group.
 */
export function killSpans(spans: Span[]): void {
  for (const s of spans) {
    if (!spanRunning(s)) continue;
    try {
      process.kill(-s.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}
