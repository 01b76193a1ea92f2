// What a node will run, from its agent's config: which users jobs may run as, and which
// commands. Pure, and shared: the node publishes its policy in its node record, the leader
// places no job on a node whose policy refuses it, the node refuses one it gets anyway, and
// `job get` / the console say which nodes refuse a job and why — all through `policyRefusal`.
//
// - A node with no policy (none of the fields set) runs everything, as before policies existed.
// - Once any field is set, root is refused unless `allowUsers` names it: a job without `user:`
//   runs as the agent's own user (`runsAs`, usually root) and is judged as that user.
// - `denyUsers` wins over `allowUsers`; `allowUsers` absent means any user but root.
// - `allowCommands`: shell-glob patterns matched against the whole command. `*` matches any
//   text without shell control characters (; & | ` $ ( ) < > \ and newlines), so
//   `/usr/local/bin/backup *` cannot be stretched into `backup x; rm -rf /`; `**` matches
//   anything; `?` one character. Absent: any command.

export interface NodePolicy {
  allowUsers?: string[];
  denyUsers?: string[];
  allowCommands?: string[];
}

/** As published in the node record: the policy and the user jobs without `user:` run as. */
export interface PublishedPolicy extends NodePolicy {
  runsAs: string;
}

export interface PolicySubject {
  user?: string;
  command: string;
}

export function hasPolicy(p: NodePolicy | undefined): p is NodePolicy {
  return !!p && (p.allowUsers !== undefined || p.denyUsers !== undefined || p.allowCommands !== undefined);
}

const CONTROL = ';&|`$()<>\\\\\\n';

function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*' && pattern[i + 1] === '*') {
      re += '[\\s\\S]*';
      i++;
    } else if (c === '*') re += `[^${CONTROL}]*`;
    else if (c === '?') re += `[^${CONTROL}]`;
    else re += c.replace(/[.+^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export function commandAllowed(patterns: string[], command: string): boolean {
  return patterns.some((p) => globToRegExp(p).test(command));
}

/** root, or uid 0 written as a number. */
export function isRootName(user: string): boolean {
  return user === 'root' || /^0+$/.test(user);
}

/**
 * Why this node refuses the job, or null when it runs it. `isRoot` lets the node itself also
 * catch another name for uid 0 (the leader, knowing only names, checks the name).
 */
export function policyRefusal(
  policy: PublishedPolicy | undefined,
  job: PolicySubject,
  isRoot: (user: string) => boolean = isRootName,
): string | null {
  if (!hasPolicy(policy)) return null;
  const user = job.user ?? policy.runsAs;
  const as = job.user ? `user ${user}` : `user ${user} (the agent's own user: the job has no user:)`;
  if (policy.denyUsers?.includes(user)) return `${as} is in this node's denyUsers`;
  if (policy.allowUsers && !policy.allowUsers.includes(user))
    return `${as} is not in this node's allowUsers (${policy.allowUsers.join(', ') || 'none'})`;
  if (isRoot(user) && !policy.allowUsers?.includes(user))
    return `${as} is root, which a node with a policy refuses unless allowUsers names it`;
  if (policy.allowCommands && !commandAllowed(policy.allowCommands, job.command))
    return `the command matches none of this node's allowCommands (${policy.allowCommands.join(', ')})`;
  return null;
}

/** Checks a policy read from an agent's config; throws with the field at fault. */
export function validatePolicy(input: Record<string, unknown>): NodePolicy {
  const out: NodePolicy = {};
  for (const field of ['allowUsers', 'denyUsers', 'allowCommands'] as const) {
    const v = input[field];
    if (v === undefined) continue;
    const list =
      typeof v === 'string'
        ? v
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : v;
    if (!Array.isArray(list) || !list.every((x) => typeof x === 'string' && x.trim() !== ''))
      throw new Error(
        `${field}: use a list of ${field === 'allowCommands' ? 'command patterns' : 'user names'}`,
      );
    out[field] = list as string[];
  }
  return out;
}
