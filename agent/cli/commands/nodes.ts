// `peppercorn nodes` and `peppercorn node cordon|uncordon|drain|forget NODE`.
import type { Command } from 'commander';
import { hostname } from 'node:os';
import { forgetNode, setCordon } from '../../api/store';
import { act, withOutput, type CliContext } from '../context';
import { iso, labels, table } from '../format';
import { out, outputFormat, show } from '../output';

export function registerNodes(program: Command, ctx: CliContext): void {
  withOutput(
    program
      .command('nodes')
      .description('nodes (alive or not), the leader, jobs owned, runs in flight, labels')
      .addHelpText(
        'after',
        `
JSON fields: [{id, alive, leader, epoch, hostname, labels, capacity, running, jobs, startedAt,
draining, cordon}]

Examples:
  $ peppercorn nodes
  $ peppercorn nodes -o name`,
      ),
  ).action(
    act(ctx, async (opts: { output?: string; json?: boolean }) => {
      const format = outputFormat(opts);
      return ctx.withStore(async (store) => {
        const nodes = await store.listNodes();
        const alive = (n: (typeof nodes)[number]) =>
          n.alive
            ? n.draining
              ? 'shutting down'
              : n.cordon
                ? `yes (${n.cordon === 'drain' ? 'draining' : 'cordoned'})`
                : 'yes'
            : 'no';
        show(format, {
          data: nodes,
          text: () =>
            table(
              ['NODE', 'ALIVE', 'LEADER', 'JOBS', 'RUNNING', 'LABELS', 'HOST'],
              nodes.map((n) => [
                n.id,
                alive(n),
                n.leader ? 'yes' : '',
                String(n.jobs),
                String(n.running),
                labels(n.labels),
                n.hostname,
              ]),
            ),
          wide: () =>
            table(
              [
                'NODE',
                'ALIVE',
                'LEADER',
                'EPOCH',
                'JOBS',
                'RUNNING',
                'CAPACITY',
                'STARTED',
                'LABELS',
                'HOST',
              ],
              nodes.map((n) => [
                n.id,
                alive(n),
                n.leader ? 'yes' : '',
                String(n.epoch ?? '-'),
                String(n.jobs),
                String(n.running),
                n.capacity ? String(n.capacity) : 'no limit',
                iso(n.startedAt),
                labels(n.labels),
                n.hostname,
              ]),
            ),
          names: () => nodes.map((n) => `node/${n.id}`),
        });
        return 0;
      });
    }),
  );

  const node = program
    .command('node')
    .description('operate on a node: cordon, uncordon, drain, forget')
    .addHelpText('after', '\nExamples:\n  $ peppercorn node drain web-3\n  $ peppercorn node forget web-old');
  const what = {
    cordon: ['no new jobs; it keeps the ones it has', 'cordoned: it keeps its jobs and takes no new ones'],
    drain: [
      'no new jobs, and its jobs move away as their runs finish',
      'draining: its jobs move to other nodes as their runs finish',
    ],
    uncordon: ['take jobs again', 'uncordoned: it takes jobs again'],
  } as const;
  for (const mode of ['cordon', 'uncordon', 'drain'] as const)
    node
      .command(mode)
      .argument('<node>', 'the node id (see `peppercorn nodes`)')
      .description(what[mode][0])
      .action(
        act(ctx, async (id: string) =>
          ctx.withStore(async (store) => {
            await setCordon(
              store,
              id,
              mode === 'uncordon' ? null : mode,
              `${process.env.USER ?? 'cli'}@${hostname()}`,
            );
            out(`node/${id} ${what[mode][1]}\n`);
            return 0;
          }),
        ),
      );
  node
    .command('forget')
    .argument('<node>', 'the node id')
    .description('drop a dead node for good (a retired machine); refused while it lives')
    .action(
      act(ctx, async (id: string) =>
        ctx.withStore(async (store) => {
          await forgetNode(store, id);
          out(`node/${id} forgotten: no longer listed; its node-down alert resolves\n`);
          return 0;
        }),
      ),
    );
}
