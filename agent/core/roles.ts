// Least privilege in etcd: the roles a Peppercorn cluster needs, derived from the key layout
// (keys.ts), so the grants cannot drift from what each part writes.
//
//   peppercorn-agent     reads the prefix; writes what agents write (membership, leadership,
//                        assignments, claims, runs, output, semaphores, completions, alerts).
//                        Cannot write jobs/, alerting, audit/ or cordons/: a compromised node
//                        cannot create or change a job, nor silence alerting.
//   peppercorn-operator  reads and writes the prefix (the CLI and console of people who manage jobs).
//   peppercorn-viewer    reads the prefix (a read-only console).
//
// Compaction: etcd 3.4 lets any authenticated user compact, so a scoped agent's leader keeps
// etcd's history bounded. Should an etcd refuse it, the leader skips compaction with one
// warning, and etcd must compact itself (--auto-compaction-retention).
import { DEFAULT_PREFIX, keys, normalizePrefix } from './keys';
import { EtcdPermissionDeniedError } from 'etcd3';

export type RoleName = 'peppercorn-agent' | 'peppercorn-operator' | 'peppercorn-viewer';

export interface Grant {
  permission: 'read' | 'readwrite';
  key: string;
  prefix: boolean;
}

/** Keys (exact) and prefixes (ending in /) agents write. */
export const AGENT_WRITES = [
  keys.nodes,
  keys.members,
  keys.leader,
  keys.leaderBeat,
  keys.assignments,
  keys.cursors,
  keys.runs,
  keys.active,
  keys.triggers,
  keys.allLogs,
  keys.semaphores,
  keys.completions,
  keys.alerts,
  keys.clocks,
  keys.skews,
];

/** What only operators write: job specs (and large applies' lock and parts), the alerting config, the audit trail, cordons. */
export const OPERATOR_WRITES = [
  keys.jobs,
  keys.applyLock,
  keys.applyParts,
  keys.alerting,
  keys.audit,
  keys.cordons,
];

export function roleGrants(prefixText: string = DEFAULT_PREFIX): Record<RoleName, Grant[]> {
  const prefix = normalizePrefix(prefixText);
  const all: Grant = { permission: 'read', key: prefix, prefix: true };
  return {
    'peppercorn-agent': [
      all,
      ...AGENT_WRITES.map((k): Grant => ({
        permission: 'readwrite',
        key: prefix + k,
        prefix: k.endsWith('/'),
      })),
    ],
    'peppercorn-operator': [{ ...all, permission: 'readwrite' }],
    'peppercorn-viewer': [all],
  };
}

/** etcdctl commands that create the roles (users are the operator's to add and grant). */
export function roleCommands(prefix?: string): string[] {
  const out: string[] = [];
  for (const [role, grants] of Object.entries(roleGrants(prefix))) {
    out.push(`etcdctl role add ${role}`);
    for (const g of grants)
      out.push(
        `etcdctl role grant-permission ${role} ${g.permission}${g.prefix ? ' --prefix=true' : ''} ${g.key}`,
      );
  }
  return out;
}

/** A write etcd refused for lack of permission, as one line saying who lacks what and what to do. */
export function permissionMessage(err: unknown, user: string | null, what: string): string | null {
  const denied =
    err instanceof EtcdPermissionDeniedError || /permission denied/i.test((err as Error)?.message ?? '');
  if (!denied) return null;
  return `the etcd user ${user ?? '(none)'} lacks write permission to ${what}; this is a read-only connection — ask an operator, or connect as a user with the peppercorn-operator role`;
}
