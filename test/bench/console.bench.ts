// The console benchmark: the real views (bundled as for the component tests) in headless
// Chromium, against the in-memory cluster (no etcd: this measures the UI, not the watch).
//   - jobs table, first render: mount the app on #/jobs with N jobs known, until the table
//     is painted (the first rAF after it shows); and on navigating to it with the jobs loaded;
//   - scroll: the table scrolled end to end by a fixed step per frame, driven from
//     requestAnimationFrame; the intervals between frames, p50 / p99 / max;
//   - log tail: output frames (base64, at most FRAME_BYTES, as the services send them) through
//     the Logs view's frame path into xterm, as fast as they come; MB/s until xterm has parsed
//     the last byte, then every line checked in the terminal's buffer (nothing dropped).
//
//   npm run bench:console [-- --jobs 10000 --step 600 --lines 90000]
//
// Figures go to stdout. Timings only; nothing here passes or fails on a figure.
import { cpus, loadavg } from 'node:os';
import { FRAME_BYTES } from '../../agent/console/contract';
import { inPage, openConsole, show } from '../component/page';
import { percentile } from './proc';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const JOBS = option('jobs', 10_000);
const STEP = option('step', 600);
// The Logs view keeps 100,000 lines of scrollback: stay under it to count every line.
const LINES = option('lines', 90_000);
const RUNS = 5;

const median = (xs: number[]) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );
const ms = (x: number) => `${x.toFixed(1)} ms`;
const runs = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');

/** Time to the painted table: the app started on #/jobs, then the screen mounted from another. */
async function firstRender(): Promise<{ cold: number[]; warm: number[] }> {
  const cold: number[] = [];
  const warm: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const cp = await openConsole({ defer: true, hash: '/jobs' });
    await inPage(cp.page, (pc, n) => pc.cluster.setRows(pc.probes.rows(n)), JOBS);
    cold.push(await inPage(cp.page, (pc, n) => pc.probes.tableShown(n, 'mount'), JOBS));
    await show(cp.page, '#/overview');
    warm.push(await inPage(cp.page, (pc, n) => pc.probes.tableShown(n, 'navigate'), JOBS));
    await cp.close();
  }
  return { cold, warm };
}

async function scroll(): Promise<{ intervals: number[]; lastRow: string | null }> {
  const cp = await openConsole({ hash: '/jobs' });
  await inPage(cp.page, (pc, n) => pc.cluster.setRows(pc.probes.rows(n)), JOBS);
  await cp.page
    .getByTestId('jobs-count')
    .filter({ hasText: `${JOBS} of` })
    .waitFor();
  const result = await inPage(cp.page, (pc, step) => pc.probes.scrollTable(step), STEP);
  await cp.close();
  return result;
}

async function logTail() {
  const run = 'bench.1700000000000.1';
  const cp = await openConsole({ hash: `/logs/${run}` });
  await cp.page.waitForFunction(`globalThis.pc.cluster.emitLog('${run}', { kind: 'data', b64: '' }) > 0`);
  // Frames are built before timing: the services encode, the page decodes and writes.
  const frames = await inPage(cp.page, (pc, [n, max]) => pc.probes.prepareTail(n, max), [LINES, FRAME_BYTES]);
  const timing = await inPage(cp.page, (pc, id) => pc.probes.tail(id), run);
  const check = await inPage(cp.page, (pc, n) => pc.probes.countLines(n), LINES);
  await cp.close();
  return { ...timing, ...check, frames };
}

async function main(): Promise<void> {
  const load = loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  const render = await firstRender();
  const sc = await scroll();
  const tail = await logTail();
  const frames = [...sc.intervals].sort((a, b) => a - b);
  const tailFrames = [...tail.intervals].sort((a, b) => a - b);
  const lastRow = `job-job-${String(JOBS - 1).padStart(5, '0')}`;
  const out = [
    'Peppercorn console benchmark: headless Chromium, the real views, in-memory cluster (no etcd)',
    `(${cpus().length} × ${cpus()[0]?.model.trim()}, Node ${process.version}, load average before: ${load})`,
    '',
    `jobs table, ${JOBS} jobs, first render (median of ${RUNS}):`,
    `  app start on #/jobs → table painted   ${ms(median(render.cold))}   (${runs(render.cold)} ms)`,
    `  navigate to #/jobs → table painted    ${ms(median(render.warm))}   (${runs(render.warm)} ms)`,
    `jobs table scrolled end to end, ${STEP} px per frame, ${frames.length} frames:`,
    `  frame interval p50 / p99 / max        ${ms(percentile(frames, 50))} / ${ms(percentile(frames, 99))} / ${ms(frames[frames.length - 1])}`,
    `  frames over 20 ms                     ${frames.filter((x) => x > 20).length}`,
    `  last row rendered at the end          ${sc.lastRow === lastRow ? 'yes' : `NO (${sc.lastRow})`}`,
    `log tail into xterm: ${LINES} lines, ${(tail.bytes / 1e6).toFixed(1)} MB in ${tail.frames} frames of ≤ ${FRAME_BYTES / 1024} KiB:`,
    `  throughput                            ${(tail.bytes / 1e6 / (tail.ms / 1000)).toFixed(1)} MB/s (${ms(tail.ms)})`,
    `  lines in the terminal, in order       ${tail.lines} of ${LINES}${tail.inOrder ? ', none dropped' : ': LINES MISSING OR OUT OF ORDER'}`,
    `  frame interval p50 / p99 meanwhile    ${ms(percentile(tailFrames, 50))} / ${ms(percentile(tailFrames, 99))}`,
  ];
  console.log(out.join('\n'));
  if (sc.lastRow !== lastRow || !tail.inOrder) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
