// Small rules the scheduler applies at a run's edges; pure, so they are tested as tables.
import { FINAL_STATUSES, type RunRecord } from '../core/records';
import type { JobSpec } from '../core/job/spec';
import { keys } from '../core/keys';

/** Runs that must never run as two copies: loops, and holders of semaphore slots. */
export function isSingleCopy(spec: JobSpec, run: RunRecord): boolean {
  return spec.kind === 'loop' || (run.holds?.length ?? 0) > 0;
}

/** Why a claimed run must not start at its time after all; undefined when it may. */
export function releaseRefusal(state: {
  live: boolean;
  stillOwned: boolean;
  paused: boolean;
  held?: string;
}): string | undefined {
  if (!state.live) return 'this node could not confirm its lease at the launch time';
  if (state.held) return state.held;
  if (!state.stillOwned)
    return 'the job left this node (moved, deleted or re-created) before its launch time';
  if (state.paused) return 'the job was paused before its launch time';
  return undefined;
}

/** A record pruning may delete: a final one (an unreadable one too), never one in flight. */
export function prunable(run: RunRecord | undefined): boolean {
  return !run || (run.status !== 'running' && FINAL_STATUSES.includes(run.status));
}

/**
 * One free slot of each semaphore a run needs (concurrency, mutex, resources), as seen in
 * the node's mirror (the claim checks each is still free), or the first one that is full.
 */
export function pickSlots(
  semaphores: { name: string; size: number }[],
  taken: (slotKey: string) => boolean,
): { slots: string[]; full?: undefined } | { slots?: undefined; full: string } {
  const slots: string[] = [];
  for (const sem of semaphores) {
    let free: string | undefined;
    for (let i = 0; i < sem.size && !free; i++) {
      const key = keys.semaphoreSlot(sem.name, i);
      if (!taken(key)) free = key;
    }
    if (!free) return { full: sem.name };
    slots.push(free);
  }
  return { slots };
}
