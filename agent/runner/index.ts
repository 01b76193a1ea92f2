// The runner: executes job runs on this node and manages their local log files.
export { prepareRun, runNow, activeRunCount, stopAllRuns } from './exec';
export type { RunSpec, RunExit, RunOutcome, PreparedRun } from './exec';
export { OutputBatcher } from './output';
export type { OutputBatcherOptions } from './output';
export { runLogPath, pruneLogs, readLog } from './logfiles';
