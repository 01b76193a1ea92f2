// Test-only: with PEPPERCORN_TEST_STALL_MS set, each SIGUSR2 busy-loops this agent's main
// thread for that many ms, to stand for an agent starved by its own load (a burst of
// launches, a long GC) without needing the load. The lease keepalive thread is not stalled,
// as on a real overloaded machine it is not. Read in this one place, when the agent
// starts; without the variable SIGUSR2 keeps its default. Not for production use.
export const STALL_ENV = 'PEPPERCORN_TEST_STALL_MS';

/** Installs the SIGUSR2 handler if the variable is set; returns the stall (0 when unset). */
export function installTestStall(env: NodeJS.ProcessEnv = process.env): number {
  const text = env[STALL_ENV];
  if (!text) return 0;
  const ms = Number(text);
  if (!Number.isFinite(ms) || ms <= 0) throw new Error(`${STALL_ENV}=${text}: expected a number of ms`);
  process.on('SIGUSR2', () => {
    process.stderr.write(`peppercorn: test stall of the main thread for ${ms} ms (${STALL_ENV})\n`);
    const until = performance.now() + ms;
    while (performance.now() < until) {
      /* busy: nothing else on this thread runs */
    }
  });
  return ms;
}
