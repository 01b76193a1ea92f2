// Real agent processes and CLI calls against a TestEtcd. Waits are bounded
// polls (they fail a test that hangs); no test asserts how long anything took.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, openSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TestEtcd, type TestEtcdOptions } from './etcd';
import { connect, type Cluster } from '../../agent/core/etcd';
import { Store } from '../../agent/api/store';
import { removeAgentGroups } from '../../agent/runner/isolation';
import { parseJobFile } from '../../agent/core/job/files';
import { listAlerts } from '../../agent/api/alert-store';
import type { AlertRecord } from '../../agent/core/records';

export const ROOT = resolve(__dirname, '..', '..', '..');
export const CLI = join(ROOT, 'dist', 'agent', 'cli', 'main.js');

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < until) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      lastErr = err;
    }
    await sleep(100);
  }
  throw new Error(
    `timed out waiting for ${what}${lastErr ? ` (last error: ${(lastErr as Error).message})` : ''}`,
  );
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface AgentSpawnOptions {
  /** Extra environment (e.g. a test-only clock offset). */
  env?: NodeJS.ProcessEnv;
  /**
   * Its own process group, as a service manager starts it: `kill -9 -PGID` then hits the
   * agent and whatever shares its group, and not the test runner.
   */
  detached?: boolean;
}

export class AgentProc {
  proc: ChildProcess;
  readonly detached: boolean;
  constructor(
    readonly id: string,
    readonly dataDir: string,
    readonly logFile: string,
    args: string[],
    env: NodeJS.ProcessEnv,
    opts: AgentSpawnOptions = {},
  ) {
    const out = openSync(logFile, 'a');
    this.detached = !!opts.detached;
    this.proc = spawn(process.execPath, [CLI, 'agent', '--node-id', id, '--data-dir', dataDir, ...args], {
      stdio: ['ignore', out, out],
      env: { ...env, ...opts.env },
      detached: this.detached,
    });
  }
  get pid(): number {
    return this.proc.pid!;
  }
  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }
  kill9(): void {
    this.proc.kill('SIGKILL');
  }
  /** `kill -9 -PGID`: the agent's whole process group (what a supervisor's group kill does). */
  groupKill9(): void {
    if (!this.detached)
      throw new Error(`agent ${this.id} shares the test's process group; start it detached`);
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      /* the group is already gone */
    }
  }
  /** Graceful shutdown. */
  term(): void {
    this.proc.kill('SIGTERM');
  }
  pause(): void {
    this.proc.kill('SIGSTOP');
  }
  resume(): void {
    this.proc.kill('SIGCONT');
  }
  exited(): Promise<number | null> {
    if (!this.alive) return Promise.resolve(this.proc.exitCode);
    return new Promise((r) => this.proc.once('exit', (code) => r(code)));
  }
  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }
}

export class TestCluster {
  readonly etcd: TestEtcd;
  readonly dir = mkdtempSync(join(tmpdir(), 'peppercorn-test-'));
  readonly agents = new Map<string, AgentProc>();
  readonly prefix = '/pc-test/';
  cluster!: Cluster;
  store!: Store;

  constructor(opts: { etcd?: TestEtcdOptions } = {}) {
    this.etcd = new TestEtcd(opts.etcd);
  }

  async start(): Promise<void> {
    await this.etcd.start();
    this.cluster = connect({ endpoints: [this.etcd.endpoint], prefix: this.prefix });
    this.store = new Store(this.cluster);
  }

  env(): NodeJS.ProcessEnv {
    return { ...process.env, PEPPERCORN_ETCD: this.etcd.endpoint, PEPPERCORN_PREFIX: this.prefix };
  }

  startAgent(id: string, args: string[] = [], opts: AgentSpawnOptions = {}): AgentProc {
    const a = new AgentProc(
      id,
      join(this.dir, id),
      join(this.dir, `${id}.log`),
      ['--lease-ttl', '3', ...args],
      this.env(),
      opts,
    );
    this.agents.set(id, a);
    return a;
  }

  /** Runs the CLI to completion. */
  cli(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, [CLI, ...args], {
      env: this.env(),
      input,
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  apply(yaml: string): void {
    const r = this.cli(['job', 'apply', '-f', '-'], yaml);
    if (r.status !== 0) throw new Error(`job apply failed: ${r.stderr}`);
  }

  /** Like apply, in this process (no CLI start-up): for operations timed to the millisecond. */
  async applyNow(yaml: string): Promise<void> {
    const parsed = parseJobFile(yaml, 'test');
    if (!parsed.ok) throw new Error(`invalid spec: ${JSON.stringify(parsed.problems)}`);
    await this.store.applyJobs(parsed.jobs);
  }

  async alerts(): Promise<AlertRecord[]> {
    return listAlerts(this.cluster, {}, () => undefined);
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  write(name: string, text: string): string {
    writeFileSync(this.path(name), text);
    return this.path(name);
  }

  /** Waits until every given agent is registered and one of them leads. */
  async ready(ids: string[]): Promise<void> {
    await waitFor('agents to join and elect a leader', async () => {
      const nodes = await this.store.listNodes();
      const live = nodes.filter((n) => n.alive).map((n) => n.id);
      return ids.every((id) => live.includes(id)) && nodes.some((n) => n.leader);
    });
  }

  async owner(job: string): Promise<string | null> {
    return (await this.store.getJob(job)).owner;
  }

  async leader(): Promise<string | undefined> {
    return (await this.store.listNodes()).find((n) => n.leader)?.id;
  }

  async stop(): Promise<void> {
    for (const a of this.agents.values()) {
      if (a.alive) {
        a.resume();
        a.kill9();
      }
      if (a.detached) a.groupKill9(); // its reaper too
    }
    // Their run cgroups: a restarted agent would clean them; these agents do not come back.
    await Promise.all([...this.agents.values()].map((a) => removeAgentGroups(a.id, a.dataDir)));
    this.cluster?.close();
    await this.etcd.destroy();
    if (!process.env.KEEP_TEST_DIRS) rmSync(this.dir, { recursive: true, force: true });
  }
}
