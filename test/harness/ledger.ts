// The promise every failure test checks: within a window, each scheduled time of
// a job was launched at most once, and each one not launched has a record saying
// why. Launches are counted from what the commands themselves wrote.
import { readFileSync, existsSync } from 'node:fs';
import type { Store } from '../../agent/api/store';
import type { RunRecord } from '../../agent/core/records';

/** The command every ledger job runs: one line per launch, written by the command itself. */
export function ledgerCommand(file: string): string {
  return `echo "$PEPPERCORN_SCHEDULED_AT $PEPPERCORN_RUN_ID $PEPPERCORN_NODE $(date +%s%3N)" >> ${file}`;
}

export interface Launch {
  scheduledAt: number;
  runId: string;
  node: string;
  startedAt: number;
}

export function readLaunches(file: string): Launch[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [at, runId, node, started] = line.split(' ');
      return { scheduledAt: Date.parse(at), runId, node, startedAt: Number(started) };
    });
}

export interface LedgerReport {
  duplicates: number[];
  /** Times in the window with neither a launch, nor a run record, nor a skipped range. */
  unaccounted: number[];
  launched: number;
  skipped: number;
  lost: number;
  nodes: Set<string>;
}

/** Checks every `stepMs`-aligned time in [from, to]. */
export async function checkLedger(
  store: Store,
  job: string,
  file: string,
  from: number,
  to: number,
  stepMs = 1000,
): Promise<LedgerReport> {
  const launches = readLaunches(file);
  const seen = new Map<number, number>();
  for (const l of launches) seen.set(l.scheduledAt, (seen.get(l.scheduledAt) ?? 0) + 1);
  const runs: RunRecord[] = await store.listRuns(job, 100_000);
  const byTime = new Map<number, RunRecord>();
  const ranges: RunRecord[] = [];
  for (const r of runs) {
    if (r.status === 'skipped' && r.until !== undefined) ranges.push(r);
    else byTime.set(r.scheduledAt, r);
  }
  const report: LedgerReport = {
    duplicates: [],
    unaccounted: [],
    launched: 0,
    skipped: 0,
    lost: 0,
    nodes: new Set(),
  };
  for (const [t, n] of seen) if (n > 1) report.duplicates.push(t);
  const start = Math.ceil(from / stepMs) * stepMs;
  for (let t = start; t <= to; t += stepMs) {
    const rec = byTime.get(t);
    if (seen.has(t)) {
      report.launched++;
      continue;
    }
    if (rec) {
      if (rec.status === 'lost') report.lost++;
      else if (rec.status === 'skipped') report.skipped++;
      else if (rec.status !== 'running') report.unaccounted.push(t); // says it ran, but the command never wrote
      continue;
    }
    if (ranges.some((r) => r.scheduledAt <= t && t <= r.until!)) {
      report.skipped++;
      continue;
    }
    report.unaccounted.push(t);
  }
  for (const l of launches) if (l.scheduledAt >= from && l.scheduledAt <= to) report.nodes.add(l.node);
  return report;
}
