// `peppercorn import-crontab FILE`: a crontab as job specs (YAML on stdout) that keep its
// meaning: the zone cron used (the machine's), the account it ran as, % stdin, and names
// from the file.
import type { Command } from 'commander';
import { readlinkSync, statSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { crontabToJobs, isSystemCrontab, nameFromFile } from '../../core/job/crontab';
import { jobsToYaml } from '../../core/job/files';
import { checkTimeZone } from '../../core/job/schedule';
import { JOB_NAME_RE } from '../../core/job/shape';
import { lookupUser } from '../../runner/users';
import { UsageError } from '../args';
import { act, type CliContext } from '../context';
import { readInput } from '../io';
import { out } from '../output';

/** The machine's local zone as cron sees it, and where it came from. */
export function localZone(env: NodeJS.ProcessEnv = process.env): { zone: string; from: string } {
  const tz = env.TZ?.replace(/^:/, '');
  if (tz && checkTimeZone(tz) === null) return { zone: tz, from: `TZ=${env.TZ}` };
  try {
    const m = /zoneinfo\/(.+)$/.exec(readlinkSync('/etc/localtime'));
    if (m && checkTimeZone(m[1]) === null) return { zone: m[1], from: '/etc/localtime' };
  } catch {
    // Not a symlink (a copied zone file): /etc/timezone, then the runtime's view.
  }
  try {
    const name = readFileSync('/etc/timezone', 'utf8').trim();
    if (name && checkTimeZone(name) === null) return { zone: name, from: '/etc/timezone' };
  } catch {
    // none
  }
  const intl = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return { zone: intl || 'UTC', from: 'the system default' };
}

export function registerImportCrontab(program: Command, ctx: CliContext): void {
  program
    .command('import-crontab')
    .argument('<file>', 'a crontab file, or - for standard input (e.g. `crontab -l |`)')
    .description('a crontab as job specs (YAML on stdout, notes and warnings on stderr)')
    .option(
      '--timezone <zone>',
      "the jobs' zone where the file has no CRON_TZ (default: this machine's local zone)",
    )
    .option('--name <prefix>', 'job names <prefix>-1, <prefix>-2... (default: from the file name)')
    .option('--user <user>', "a user crontab's jobs run as this user (default: the file's owner)")
    .addHelpText(
      'after',
      `
Cron ran a crontab in the machine's local zone (TZ or /etc/localtime) unless CRON_TZ says
otherwise; imported jobs keep that zone, and the import says which it used. A "%" in a
command is cron's stdin: it is kept as a here-document. /etc/crontab and /etc/cron.d files
name a user per line; a user crontab's jobs run as its owner (or --user), never silently as root.

Examples:
  $ peppercorn import-crontab /etc/cron.d/sysstat | peppercorn job apply -f -
  $ crontab -l | peppercorn import-crontab - --name alice --user alice > alice.yaml`,
    )
    .action(
      act(ctx, async (file: string, opts: { timezone?: string; name?: string; user?: string }) => {
        // import-crontab never reaches etcd, so a --user taken as the global etcd user is ours.
        opts = { ...opts, user: opts.user ?? ctx.flags.user };
        const text = readInput(file);
        let zone: { zone: string; from: string };
        if (opts.timezone) {
          const problem = checkTimeZone(opts.timezone);
          if (problem) throw new UsageError(`--timezone: ${problem}`);
          zone = { zone: opts.timezone, from: '--timezone' };
        } else zone = localZone();
        const name = opts.name ?? nameFromFile(file);
        if (!JOB_NAME_RE.test(`${name}-1`))
          throw new UsageError(
            `--name ${name}: use lower-case letters, digits and "-" (job names are ${name}-1, ...)`,
          );
        const system = isSystemCrontab(file);
        let user: string | undefined;
        const notes: string[] = [];
        if (system) {
          if (opts.user) notes.push(`--user ignored: ${file} names the user on each line`);
        } else if (opts.user) {
          user = opts.user;
          notes.push(`jobs run as ${user} (--user)`);
        } else if (file === '-') {
          user = userInfo().username;
          notes.push(
            `jobs run as ${user} (you: a crontab on standard input is taken as yours; pass --user to change)`,
          );
        } else {
          const uid = statSync(file).uid;
          user = await lookupUser(String(uid)).then(
            (a) => a.name,
            () => String(uid),
          );
          notes.push(
            `jobs run as ${user}, the owner of ${file}${user === 'root' ? ' (root: check this is meant)' : ''}; pass --user to change`,
          );
        }
        const { jobs, warnings } = crontabToJobs(text, file === '-' ? 'stdin' : file, {
          timezone: zone.zone,
          name,
          user,
        });
        for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
        const byZone = new Map<string, number>();
        for (const j of jobs) byZone.set(j.timezone, (byZone.get(j.timezone) ?? 0) + 1);
        for (const [z, n] of byZone)
          notes.push(
            `${n} job(s) in ${z} (${z === zone.zone ? (zone.from === '--timezone' ? '--timezone' : `this machine's local zone, from ${zone.from}`) : 'CRON_TZ/TZ in the file'})`,
          );
        for (const n of notes) process.stderr.write(`note: ${n}\n`);
        out(jobsToYaml(jobs));
        return 0;
      }),
    );
}
