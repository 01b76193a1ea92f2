// `peppercorn etcd-roles`: the etcdctl commands that create the least-privilege roles for
// this cluster's prefix (agent, operator, viewer; see agent/core/roles.ts and the README).
import type { Command } from 'commander';
import { roleCommands } from '../core/roles';
import { act, type CliContext } from './context';
import { out } from './output';

export function registerEtcdRoles(program: Command, ctx: CliContext): void {
  program
    .command('etcd-roles')
    .description('print the etcdctl commands that create least-privilege roles for this prefix')
    .action(
      act(ctx, () => {
        const lines = roleCommands(ctx.connection().connect.prefix);
        out(
          [
            '# Roles for Peppercorn under this prefix. Then, as etcd root:',
            '#   etcdctl user add NAME && etcdctl user grant-role NAME peppercorn-agent|peppercorn-operator|peppercorn-viewer',
            '#   etcdctl user add root && etcdctl user grant-role root root && etcdctl auth enable',
            ...lines,
          ].join('\n') + '\n',
        );
        return 0;
      }),
    );
}
