// What every command shares: the global options, the connection to etcd (resolved only
// by commands that need it, so `validate`, `explain` and `--help` work offline), and the
// exit status the command ends with.
import type { Command } from 'commander';
import { connect, type Cluster } from '../core/etcd';
import { Store } from '../api/store';
import { resolveConnection, type Connection, type GlobalFlags } from './connection';

export class CliContext {
  private conn: Connection | undefined;
  /** The status the process exits with once output has drained. */
  status = 0;
  /** Set when the reader of stdout went away: long-running commands stop. */
  readonly closed = new AbortController();

  constructor(private readonly program: Command) {}

  get flags(): GlobalFlags {
    return this.program.opts<GlobalFlags>();
  }

  connection(): Connection {
    if (!this.conn) {
      this.conn = resolveConnection(this.flags);
      for (const w of this.conn.warnings) process.stderr.write(`warning: ${w}\n`);
    }
    return this.conn;
  }

  /** The etcd user of the connection, for error messages (null: none, or not resolved). */
  etcdUser(): string | null {
    return this.conn?.connect.user ?? null;
  }

  /** Endpoints for error messages, or none when the connection itself was the problem. */
  endpoints(): string[] {
    return this.conn?.connect.endpoints ?? [];
  }

  /** Runs `fn` with a store on etcd; corrupt values met on the way are shown as warnings. */
  async withStore<T>(fn: (store: Store, cluster: Cluster) => Promise<T>): Promise<T> {
    const cluster = connect(this.connection().connect);
    const store = new Store(cluster);
    try {
      return await fn(store, cluster);
    } finally {
      for (const w of store.warnings) process.stderr.write(`warning: ${w}\n`);
      cluster.close();
    }
  }
}

/** `-o json|yaml|wide|name` and its `--json` alias, on a command that shows a listing. */
export function withOutput(cmd: Command, formats = 'json|yaml|wide|name'): Command {
  return cmd
    .option('-o, --output <format>', `output format: ${formats} (default: a table)`)
    .option('--json', 'same as -o json');
}

/** The action wrapper: a command returns its exit status. */
export function act<A extends unknown[]>(
  ctx: CliContext,
  fn: (...args: A) => Promise<number> | number,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    ctx.status = await fn(...args);
  };
}
