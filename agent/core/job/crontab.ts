// Imports a classic crontab into job specs, warning (never throwing) about what cannot carry over.
import { checkCronExpression, checkTimeZone } from './schedule';
import { validateJob, type JobSpec } from './spec';

interface ParsedLine {
  line: number;
  schedule: string;
  command: string;
  user?: string;
  env: Record<string, string>;
  timezone: string;
}

const ENV_LINE = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/;

function unquote(value: string): string {
  const trimmed = value.trim();
  if (trimmed.length >= 2 && (trimmed[0] === '"' || trimmed[0] === "'") && trimmed.endsWith(trimmed[0])) {
    return trimmed.slice(1, -1);
  }
  return trimmed;
}

/** Cron's % rule: unescaped % ends the command and the rest, each further % a newline, is its stdin; \% is a literal %. */
function splitPercent(command: string): { command: string; stdin?: string } {
  let out = '';
  for (let i = 0; i < command.length; i++) {
    const char = command[i];
    if (char === '\\' && command[i + 1] === '%') {
      out += '%';
      i++;
    } else if (char === '%') {
      const rest = command
        .slice(i + 1)
        .replace(/\\%/g, '\u0000')
        .replace(/%/g, '\n')
        .replace(/\u0000/g, '%');
      return { command: out.trimEnd(), stdin: rest };
    } else out += char;
  }
  return { command: out };
}

/**
 * The command with cron's stdin kept as a here-document (quoted: no expansion, as cron
 * feeds it). A command with ; & or | is grouped so the whole of it reads the stdin, as in cron.
 */
export function withStdin(command: string, stdin: string): string {
  const lines = stdin.split('\n');
  let delim = 'PEPPERCORN_STDIN';
  while (lines.includes(delim)) delim += '_';
  const body = stdin.endsWith('\n') || stdin === '' ? stdin : stdin + '\n';
  const head = /[;&|\n]/.test(command) ? `{\n${command}\n} <<'${delim}'` : `${command} <<'${delim}'`;
  return `${head}\n${body}${delim}`;
}

/** A DNS-label slug of a file name, e.g. "/etc/cron.d/sysstat" -> "sysstat", "e2scrub_all" -> "e2scrub-all". */
export function nameFromFile(path: string): string {
  const base = path.split('/').filter(Boolean).pop() ?? '';
  const slug = base
    .toLowerCase()
    .replace(/\.(cron|crontab|txt)$/, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 50)
    .replace(/-+$/, '');
  return slug === '' || path === '-' ? 'crontab' : slug;
}

export interface CrontabOptions {
  /** The zone cron used: the machine's local zone unless CRON_TZ says otherwise. */
  timezone: string;
  /** Job names are `<name>-1`, `<name>-2`... in line order (default: from the file name). */
  name?: string;
  /** A user crontab (no user column): the account its jobs run as, its owner. */
  user?: string;
  /** Whether lines carry a user column; by default from the path (/etc/crontab, cron.d/). */
  userColumn?: boolean;
}

/**
 * Converts crontab text to job specs. Every returned job passes validateJob; anything that
 * cannot be imported is skipped with a warning that names its line.
 */
export function crontabToJobs(
  text: string,
  sourceName: string,
  opts: CrontabOptions = { timezone: 'UTC' },
): { jobs: JobSpec[]; warnings: string[] } {
  const warnings: string[] = [];
  const parsed: ParsedLine[] = [];
  // /etc/crontab and /etc/cron.d files carry a user column; the file name is the only reliable tell.
  const hasUserColumn = opts.userColumn ?? isSystemCrontab(sourceName);
  let env: Record<string, string> = {};
  let timezone = opts.timezone;

  text.split(/\r?\n/).forEach((rawLine, index) => {
    const lineNo = index + 1;
    const where = `${sourceName}:${lineNo}`;
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) return;

    const envMatch = ENV_LINE.exec(line);
    if (envMatch) {
      const [, key, rawValue] = envMatch;
      const value = unquote(rawValue);
      if (key === 'SHELL') {
        warnings.push(`${where}: SHELL=${value} ignored: Peppercorn always runs commands with /bin/sh -c`);
      } else if (key === 'MAILTO') {
        warnings.push(
          `${where}: MAILTO=${value} ignored: Peppercorn does not send mail; output is kept in run history`,
        );
      } else if (key === 'CRON_TZ' || key === 'TZ') {
        const problem = checkTimeZone(value);
        if (problem) {
          warnings.push(`${where}: ${key} ignored: ${problem}`);
          return;
        }
        timezone = value;
        // TZ is also a plain environment variable the command sees in cron; CRON_TZ is not.
        if (key === 'TZ') env = { ...env, TZ: value };
      } else {
        env = { ...env, [key]: value };
      }
      return;
    }

    let schedule: string;
    let rest: string;
    if (line.startsWith('@')) {
      const match = /^(@\S+)(?:\s+(.*))?$/.exec(line) as RegExpExecArray;
      if (match[1] === '@reboot') {
        warnings.push(
          `${where}: @reboot skipped: Peppercorn has no boot event; make it a once job and trigger it`,
        );
        return;
      }
      // "@every 10s cmd": the duration is part of the schedule.
      if (match[1] === '@every') {
        const every = /^(@every\s+\S+)(?:\s+(.*))?$/.exec(line) as RegExpExecArray;
        schedule = every[1];
        rest = every[2] ?? '';
      } else {
        schedule = match[1];
        rest = match[2] ?? '';
      }
    } else {
      const fields = line.split(/\s+/);
      if (fields.length < 6) {
        warnings.push(`${where}: skipped, not a cron line (need 5 time fields and a command): ${line}`);
        return;
      }
      schedule = fields.slice(0, 5).join(' ');
      rest = line.replace(/^(\S+\s+){5}/, '');
    }

    let user: string | undefined;
    if (hasUserColumn) {
      const match = /^(\S+)\s*(.*)$/.exec(rest);
      user = match?.[1];
      rest = match?.[2] ?? '';
    }

    const problem = checkCronExpression(schedule, timezone, '');
    if (problem) {
      warnings.push(`${where}: skipped: ${problem}`);
      return;
    }
    const split = splitPercent(rest);
    const bare = split.command.trim();
    if (bare === '') {
      warnings.push(`${where}: skipped: no command`);
      return;
    }
    const command = split.stdin === undefined ? bare : withStdin(bare, split.stdin);
    parsed.push({ line: lineNo, schedule, command, user: user ?? opts.user, env, timezone });
  });

  const base = opts.name ?? nameFromFile(sourceName);
  const names = parsed.map((_, i) => `${base.slice(0, 56)}-${i + 1}`);
  const jobs: JobSpec[] = [];
  parsed.forEach((entry, i) => {
    const result = validateJob({
      name: names[i],
      kind: 'cron',
      schedule: entry.schedule,
      timezone: entry.timezone,
      command: entry.command,
      env: entry.env,
      ...(entry.user === undefined ? {} : { user: entry.user }),
      description: `imported from ${sourceName} line ${entry.line}`,
    });
    if (result.ok) jobs.push(result.job);
    else {
      const reasons = result.errors.map((e) => `${e.field}: ${e.message}`).join('; ');
      warnings.push(`${sourceName}:${entry.line}: skipped: ${reasons}`);
    }
  });
  return { jobs, warnings };
}

/** /etc/crontab and /etc/cron.d/* have a user column; user crontabs do not. */
export function isSystemCrontab(path: string): boolean {
  return /(^|\/)etc\/crontab$|(^|\/)cron\.d\//.test(path);
}
