// Shared by the runner's tests: a temporary directory and a RunSpec with small caps.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunSpec } from '../../agent/runner/exec';

export function runnerFixture(name: string): {
  dir: string;
  spec: (command: string, extra?: Partial<RunSpec>) => RunSpec;
} {
  const dir = mkdtempSync(join(tmpdir(), `pc-runner-${name}-`));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const spec = (command: string, extra: Partial<RunSpec> = {}): RunSpec => ({
    runId: 'r1',
    command,
    env: {},
    killGraceMs: 300,
    logFile: join(dir, 'logs', 'job', `${Math.random().toString(36).slice(2)}.log`),
    logFileCapBytes: 1024 * 1024,
    tailBytes: 4096,
    ...extra,
  });
  return { dir, spec };
}
