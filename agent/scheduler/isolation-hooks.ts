// What the scheduler does differently for container jobs: it claims them earlier (creating and
// starting a container takes a second or more; it must happen before the scheduled time, and the
// run is released at the time itself), and their claim record names the image and the container.
import type { JobSpec } from '../core/job/spec';
import { containerName } from '../core/job/isolation';
import type { RunRecord } from '../core/records';

/** How long before its time a container run is claimed and its container created and started. */
export const CONTAINER_CLAIM_AHEAD_MS = 5_000;

export function claimAheadFor(spec: JobSpec, plainMs: number): number {
  return spec.image ? Math.max(plainMs, CONTAINER_CLAIM_AHEAD_MS) : plainMs;
}

/** Fields of the claim record for a run of this job (none for plain jobs). */
export function runIsolationFields(
  spec: JobSpec | undefined,
  runId: string,
): Pick<RunRecord, 'image' | 'container'> {
  return spec?.image ? { image: spec.image, container: containerName(runId) } : {};
}
