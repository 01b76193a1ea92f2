// Test-only: PEPPERCORN_CLOCK_OFFSET_MS moves this agent's wall clock (Date.now) by that
// many ms, to stand for a machine whose clock is wrong (no NTP) without changing the
// machine's clock. Read in this one place, when the agent starts; the monotonic clock
// (leases, timers) is untouched, as on a real skewed machine. Not for production use.
export const CLOCK_OFFSET_ENV = 'PEPPERCORN_CLOCK_OFFSET_MS';

/** Applies the offset if the variable is set; returns it (0 when unset). */
export function applyTestClockOffset(env: NodeJS.ProcessEnv = process.env): number {
  const text = env[CLOCK_OFFSET_ENV];
  if (!text) return 0;
  const offset = Number(text);
  if (!Number.isFinite(offset)) throw new Error(`${CLOCK_OFFSET_ENV}=${text}: expected a number of ms`);
  const real = Date.now.bind(Date);
  Date.now = () => real() + offset;
  return offset;
}
