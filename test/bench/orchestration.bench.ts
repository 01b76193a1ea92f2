// Orchestration benchmark: etcd + 3 agents on this machine, printing
// - dependency fan-out: one parent, N children `after` it; from the parent's end (its
//   own clock) to each child's start (its own clock), p50 / p99 / max;
// - mutex hand-off: two jobs sharing a mutex, both triggered together, repeatedly;
//   from the first one's end to the second one's start.
// - alert delivery: a job failing every second, alerts on failure to a webhook on loopback;
//   from the failed run's end (its record) to the receiver getting the notice.
// Figures are printed, never asserted.
// Run: node dist/test/bench/orchestration.bench.js [--children 500] [--handoffs 20] [--alerts 30]
import { existsSync, readFileSync } from 'node:fs';
import { TestCluster, waitFor, sleep } from '../harness/cluster';
import { percentile } from './proc';
import { WebhookReceiver } from '../harness/receivers';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

const stamp = (file: string, body: string) =>
  JSON.stringify(
    `s=$(date +%s%3N); ${body}; echo "$PEPPERCORN_JOB $PEPPERCORN_RUN_ID $s $(date +%s%3N)" >> ${file}`,
  );

function rows(file: string): { job: string; run: string; start: number; end: number }[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [job, run, s, e] = l.split(' ');
      return { job, run, start: Number(s), end: Number(e) };
    });
}

const fmt = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `p50 ${percentile(s, 50).toFixed(0)} ms, p99 ${percentile(s, 99).toFixed(0)} ms, max ${s[s.length - 1].toFixed(0)} ms (n=${s.length})`;
};

async function main(): Promise<void> {
  const children = arg('children', 500);
  const handoffs = arg('handoffs', 20);
  const alertCount = arg('alerts', 30);
  const hook = new WebhookReceiver();
  const tc = new TestCluster();
  const stop = () => void tc.stop().finally(() => process.exit(1));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    await tc.start();
    for (const id of ['n1', 'n2', 'n3']) tc.startAgent(id);
    await tc.ready(['n1', 'n2', 'n3']);

    // Fan-out.
    const fan = tc.path('fan.txt');
    const specs = [`name: parent\nkind: once\ncommand: ${stamp(fan, 'true')}\n`];
    for (let i = 0; i < children; i++)
      specs.push(`name: child-${i}\nkind: once\nafter: [parent]\ncommand: ${stamp(fan, 'true')}\n`);
    tc.apply(specs.join('---\n'));
    await waitFor('all jobs assigned', async () => (await tc.store.listJobs()).every((j) => j.owner), 60_000);
    await sleep(1000);
    tc.cli(['job', 'run', 'parent']);
    await waitFor(
      `${children} children to run`,
      () => rows(fan).filter((r) => r.job.startsWith('child-')).length >= children,
      300_000,
    );
    const parentEnd = rows(fan).find((r) => r.job === 'parent')!.end;
    const fanDelays = rows(fan)
      .filter((r) => r.job.startsWith('child-'))
      .map((r) => r.start - parentEnd);
    for (let i = 0; i < children; i++) await tc.store.removeJob(`child-${i}`);

    // Mutex hand-off.
    const mx = tc.path('mutex.txt');
    tc.apply(
      `name: mx-a\nkind: once\nmutex: bench\ncommand: ${stamp(mx, 'sleep 0.3')}\n---\nname: mx-b\nkind: once\nmutex: bench\ncommand: ${stamp(mx, 'sleep 0.3')}\n`,
    );
    await waitFor('mutex jobs assigned', async () =>
      (await tc.store.listJobs()).filter((j) => j.spec.name.startsWith('mx-')).every((j) => j.owner),
    );
    const gaps: number[] = [];
    for (let i = 0; i < handoffs; i++) {
      const before = rows(mx).length;
      tc.cli(['job', 'run', 'mx-a']);
      tc.cli(['job', 'run', 'mx-b']);
      await waitFor('both mutex runs', () => rows(mx).length >= before + 2, 60_000);
      const [first, second] = rows(mx)
        .slice(before)
        .sort((a, b) => a.start - b.start);
      gaps.push(second.start - first.end);
      await sleep(300);
    }
    const owners = new Set(
      (await tc.store.listJobs()).filter((j) => j.spec.name.startsWith('mx-')).map((j) => j.owner),
    );

    // Alert delivery.
    await hook.start();
    const cfg = tc.cli(
      ['alerts', 'config', 'apply', '-f', '-'],
      `channels:\n  hook: { type: webhook, url: "${hook.url}" }\n`,
    );
    if (cfg.status !== 0) throw new Error(cfg.stderr);
    tc.apply(
      `name: failing\nkind: cron\nschedule: "* * * * * *"\ncommand: "exit 1"\nalerts: { on: [failure] }\n`,
    );
    await waitFor(`${alertCount} alerts`, () => hook.requests.length >= alertCount + 2, 300_000);
    tc.cli(['job', 'pause', 'failing']);
    await sleep(2000);
    const received = new Map(hook.requests.map((r) => [r.key, r.at]));
    const alertDelays: number[] = [];
    for (const r of await tc.store.listRuns('failing', 1000)) {
      const at = received.get(`${r.id}.failure:open`);
      if (r.status === 'failed' && at && r.endedAt) alertDelays.push(at - r.endedAt);
    }

    process.stdout.write(
      [
        'Peppercorn orchestration benchmark: etcd + 3 agents on one machine',
        `dependency fan-out, 1 parent -> ${children} children: parent end -> child start ${fmt(fanDelays)}`,
        `mutex hand-off (${owners.size === 2 ? 'jobs on two nodes' : 'jobs on one node'}): end of one run -> start of the other ${fmt(gaps)}`,
        `alert delivery (webhook on loopback): failed run's end -> notice received ${fmt(alertDelays)}`,
        '',
      ].join('\n'),
    );
  } finally {
    await tc.stop();
    await hook.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`the run broke: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
