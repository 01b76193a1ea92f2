// Imports a classic crontab into job specs, warning (never throwing) about what cannot carry over.
import { fnv1a32 } from './hash';
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

/** Cron's % rule: unescaped % ends the command (the rest becomes stdin), \% is a literal %. */
function splitPercent(command: string): { command: string; dropped?: string } {
  let out = '';
  for (let i = 0; i < command.length; i++) {
    const char = command[i];
    if (char === '\\' && command[i + 1] === '%') {
      out += '%';
      i++;
    } else if (char === '%') {
      return { command: out.trimEnd(), dropped: command.slice(i + 1) };
    } else out += char;
  }
  return { command: out };
}

/** DNS-label slug from the command's first word, e.g. "/usr/local/bin/backup.sh --x" -> "backup-sh". */
function baseSlug(command: string): string {
  const firstWord = command.trim().split(/\s+/)[0] ?? '';
  const base = firstWord.split('/').filter(Boolean).pop() ?? '';
  const slug = base
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 50)
    .replace(/-+$/, '');
  return slug === '' ? 'job' : slug;
}

function shortHash(text: string): string {
  return fnv1a32(text).toString(16).padStart(8, '0').slice(0, 6);
}

/** Names from the command; a stable hash suffix only where two lines would share a name. */
function assignNames(lines: ParsedLine[]): string[] {
  const counts = new Map<string, number>();
  const bases = lines.map((line) => baseSlug(line.command));
  for (const base of bases) counts.set(base, (counts.get(base) ?? 0) + 1);
  const used = new Set<string>();
  return lines.map((line, i) => {
    const base = bases[i];
    let name = counts.get(base) === 1 ? base : `${base}-${shortHash(`${line.schedule}\n${line.command}`)}`;
    // Identical lines hash alike; number them so every name stays unique.
    for (let n = 2; used.has(name); n++)
      name = `${base}-${shortHash(`${line.schedule}\n${line.command}`)}-${n}`;
    used.add(name);
    return name;
  });
}

/**
 * Converts crontab text to job specs. Every returned job passes validateJob; anything that
 * cannot be imported is skipped with a warning that names its line.
 */
export function crontabToJobs(text: string, sourceName: string): { jobs: JobSpec[]; warnings: string[] } {
  const warnings: string[] = [];
  const parsed: ParsedLine[] = [];
  // /etc/crontab and /etc/cron.d files carry a user column; the file name is the only reliable tell.
  const hasUserColumn = /(^|\/)etc\/crontab$|(^|\/)cron\.d\//.test(sourceName);
  let env: Record<string, string> = {};
  let timezone = 'UTC';

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
    if (split.dropped !== undefined) {
      warnings.push(
        `${where}: "%" ends the command here; cron would feed the rest to it as stdin, which Peppercorn does not: dropped "${split.dropped}" (write \\% for a literal %)`,
      );
    }
    const command = split.command.trim();
    if (command === '') {
      warnings.push(`${where}: skipped: no command`);
      return;
    }
    parsed.push({ line: lineNo, schedule, command, user, env, timezone });
  });

  const names = assignNames(parsed);
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
