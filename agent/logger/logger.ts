// The agent's own log (not its runs' output): pino, one line per event.
// - JSON lines when stdout is not a terminal (systemd, files, pipes) or with --log-format json;
//   readable text on a terminal or with --log-format text.
// - Under systemd, stdout is a journald stream: each line then starts with the syslog priority
//   ("<4>" for warn), which journald strips and stores as PRIORITY, so
//   `journalctl -u peppercorn-agent -p warning` shows warnings and errors only.
//   fatal → 2 (crit), error → 3 (err), warn → 4 (warning), info → 6 (info), debug/trace → 7.
// - Every line carries `node`; lines about a job or a run carry `job` and `run`
//   (given by the caller, or found in the sentence: see subject.ts).
import { fstatSync } from 'node:fs';
import pino from 'pino';
import { subjectOf, type Level, type LogFields } from './subject';

export type { Level, LogFields } from './subject';
export type LogFormat = 'json' | 'text';
/** What the agent's parts are given: a sentence, and optionally its job, run, level and more. */
export type Log = (msg: string, fields?: LogFields) => void;

export const LEVELS: readonly Level[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];
const PINO_LEVEL: Record<number, Level> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};
const JOURNAL_PRIORITY: Record<Level, number> = { trace: 7, debug: 7, info: 6, warn: 4, error: 3, fatal: 2 };

/** The format asked for, or JSON unless stdout is a terminal. */
export function chooseFormat(asked: string | undefined, stdoutIsTTY: boolean): LogFormat {
  if (asked === undefined || asked === '') return stdoutIsTTY ? 'text' : 'json';
  if (asked === 'json' || asked === 'text') return asked;
  throw new Error(`unknown log format "${asked}": use json or text`);
}

export function parseLevel(asked: string | undefined): Level {
  if (asked === undefined || asked === '') return 'info';
  if ((LEVELS as readonly string[]).includes(asked)) return asked as Level;
  throw new Error(`unknown log level "${asked}": use one of ${LEVELS.join(', ')}`);
}

export function journalPriority(level: Level): number {
  return JOURNAL_PRIORITY[level];
}

/** True when fd 1 is the journald stream systemd gave this service (JOURNAL_STREAM=dev:inode). */
export function stdoutIsJournal(env: NodeJS.ProcessEnv = process.env): boolean {
  if (!env.JOURNAL_STREAM) return false;
  try {
    const st = fstatSync(1);
    return env.JOURNAL_STREAM === `${st.dev}:${st.ino}`;
  } catch {
    return false;
  }
}

const RESERVED = new Set(['level', 'time', 'msg', 'node', 'pid', 'hostname']);

/** One JSON line as a readable one: `time LEVEL [node] message job=… run=… key=value`. */
export function formatText(line: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line);
  } catch {
    return line;
  }
  const level = (PINO_LEVEL[o.level as number] ?? 'info').toUpperCase().padEnd(5);
  const time = typeof o.time === 'number' ? new Date(o.time).toISOString() : String(o.time ?? '');
  const extra = Object.entries(o)
    .filter(([k]) => !RESERVED.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`);
  return `${time} ${level} [${String(o.node ?? '')}] ${String(o.msg ?? '')}${extra.length ? ' ' + extra.join(' ') : ''}\n`;
}

export interface LoggerOptions {
  node: string;
  format: LogFormat;
  level?: Level;
  /** Where lines go (default: standard output, written synchronously so a crash loses none). */
  out?: { write(s: string): unknown };
  /** Prefix lines with journald's "<priority>" (default: when stdout is the journal). */
  journal?: boolean;
}

export function createLogger(opts: LoggerOptions): { log: Log; logger: pino.Logger } {
  const out = opts.out ?? pino.destination({ fd: 1, sync: true });
  const journal = opts.journal ?? (opts.out === undefined && stdoutIsJournal());
  const sink = {
    write(line: string) {
      let s = opts.format === 'text' ? formatText(line) : line;
      if (journal) {
        const level = PINO_LEVEL[Number(/^\{"level":(\d+)/.exec(line)?.[1])] ?? 'info';
        s = `<${JOURNAL_PRIORITY[level]}>${s}`;
      }
      out.write(s);
    },
  };
  const logger = pino(
    {
      level: opts.level ?? 'info',
      base: { node: opts.node },
      timestamp: opts.format === 'json' ? pino.stdTimeFunctions.isoTime : pino.stdTimeFunctions.epochTime,
    },
    sink,
  );
  const log: Log = (msg, fields) => {
    const found = subjectOf(msg);
    const { level = found.level, ...rest } = fields ?? {};
    const f: Record<string, unknown> = {};
    if (found.job && rest.job === undefined) f.job = found.job;
    if (found.run && rest.run === undefined) f.run = found.run;
    logger[level]({ ...f, ...rest }, msg);
  };
  return { log, logger };
}
