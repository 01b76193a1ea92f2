// The environment a job's run (and an alert `command` channel) starts with. It is built, never
// inherited: the agent's own environment holds its secrets (PEPPERCORN_PASSWORD, an SMTP password
// named by `passwordEnv`, cloud keys...), and a job running as `nobody` must not be able to read
// them and, with the etcd password, write itself a root job.
//
// A run gets exactly:
//   PATH, LANG, TZ          as on the node (the agent's values; PATH has a default when unset)
//   HOME, USER, LOGNAME,    of the account it runs as: the job's `user:` when set, else the
//   SHELL                   agent's own account
//   the job's `env`         which may override any of the above
//   PEPPERCORN_* run vars   given by the caller (the job's name, run id...), which win over all
// Nothing else: not the agent's PEPPERCORN_* settings, not its other variables.

/** What a run sees from the node itself. */
export const NODE_VARIABLES = ['PATH', 'LANG', 'TZ'] as const;

/** Used when the agent itself has no PATH (started by a bare init, or with `env -i`). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface Account {
  name: string;
  home: string;
  /** Login shell; /bin/sh when the account names none. */
  shell?: string;
}

/**
 * The complete environment of a run. `node` is the agent's own environment, read only for
 * NODE_VARIABLES; `account` is who the run runs as; `job` its env; `run` the PEPPERCORN_* variables.
 */
export function runEnvironment(
  node: NodeJS.ProcessEnv,
  account: Account,
  job: Record<string, string> = {},
  run: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = { PATH: node.PATH || DEFAULT_PATH };
  for (const name of NODE_VARIABLES) {
    const v = node[name];
    if (name !== 'PATH' && v !== undefined) env[name] = v;
  }
  env.HOME = account.home || '/';
  env.USER = account.name;
  env.LOGNAME = account.name;
  env.SHELL = account.shell || '/bin/sh';
  return { ...env, ...job, ...run };
}
