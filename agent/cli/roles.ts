// `peppercorn etcd-roles`: the etcdctl commands that create the least-privilege roles for
// this cluster's prefix (agent, operator, viewer; see agent/core/roles.ts and the README).
import { roleCommands } from '../core/roles';
import type { GlobalOptions } from './args';

export function etcdRolesCommand(global: GlobalOptions): number {
  const lines = roleCommands(global.connect.prefix);
  process.stdout.write(
    [
      '# Roles for Peppercorn under this prefix. Then, as etcd root:',
      '#   etcdctl user add NAME && etcdctl user grant-role NAME peppercorn-agent|peppercorn-operator|peppercorn-viewer',
      '#   etcdctl user add root && etcdctl user grant-role root root && etcdctl auth enable',
      ...lines,
    ].join('\n') + '\n',
  );
  return 0;
}
