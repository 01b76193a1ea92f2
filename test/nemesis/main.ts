// `npm run nemesis -- --seed N --duration S`: one seeded nemesis run (see run.ts, plan.ts,
// check.ts). Exits 1 on a violation, printing the seed, the operation log and the
// violating lines; the run's directory (agent logs, ledger) is kept then.
import { parseArgs } from 'node:util';
import { runNemesis, removeNemesisDir } from './run';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { seed: { type: 'string' }, duration: { type: 'string' }, quiet: { type: 'boolean' } },
  });
  const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 1e6);
  const duration = Number(values.duration ?? '60');
  if (!Number.isInteger(seed) || !(duration > 0)) {
    process.stderr.write('usage: npm run nemesis -- [--seed N] [--duration SECONDS] [--quiet]\n');
    return 2;
  }
  const r = await runNemesis(
    seed,
    duration * 1000,
    values.quiet ? undefined : (l) => process.stdout.write(`${l}\n`),
  );
  if (!r.violations.length) {
    process.stdout.write(`nemesis seed ${seed}, ${duration} s: no violations\n`);
    if (process.env.KEEP_TEST_DIRS) process.stdout.write(`(kept ${r.dir})\n`);
    else removeNemesisDir(r);
    return 0;
  }
  if (values.quiet) process.stdout.write(`operation log:\n${r.log.join('\n')}\n`);
  process.stdout.write(
    `\nnemesis seed ${seed}, ${duration} s: ${r.violations.length} violation(s) (logs in ${r.dir}):\n` +
      r.violations.map((v) => `  ${v}`).join('\n') +
      `\nreplay: npm run nemesis -- --seed ${seed} --duration ${duration}\n`,
  );
  return 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`nemesis: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
