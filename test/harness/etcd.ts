// A real etcd for tests: Debian's etcd-server on free loopback ports with a
// temporary data dir. It can be stopped and started again on the same ports and
// data, to test recovery from an etcd restart. `TestEtcdCluster` runs several
// members (a real Raft quorum) so that one can be killed while the cluster serves.
import { spawn, spawnSync, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface TestEtcdOptions {
  /** Member name (default `test`). */
  name?: string;
  /** Extra etcd flags, e.g. `['--quota-backend-bytes', String(16 << 20)]`. */
  args?: string[];
}

export class TestEtcd {
  readonly dir = mkdtempSync(join(tmpdir(), 'peppercorn-etcd-'));
  clientPort = 0;
  peerPort = 0;
  /** `name=peerURL,...` of every member; set by TestEtcdCluster, else this member alone. */
  initialCluster = '';
  readonly name: string;
  private proc: ChildProcess | undefined;

  constructor(private readonly opts: TestEtcdOptions = {}) {
    this.name = opts.name ?? 'test';
  }

  get peerUrl(): string {
    return `http://127.0.0.1:${this.peerPort}`;
  }

  get running(): boolean {
    return !!this.proc && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** Picks the ports (once); a cluster needs every member's before any starts. */
  async allocatePorts(): Promise<void> {
    if (!this.clientPort) {
      this.clientPort = await freePort();
      this.peerPort = await freePort();
    }
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.clientPort}`;
  }

  async start(waitHealthy = true): Promise<void> {
    await this.allocatePorts();
    const log = openSync(join(this.dir, 'etcd.log'), 'a');
    this.proc = spawn(
      process.env.ETCD_BIN ?? 'etcd',
      [
        '--name',
        this.name,
        '--data-dir',
        join(this.dir, 'data'),
        '--listen-client-urls',
        this.endpoint,
        '--advertise-client-urls',
        this.endpoint,
        '--listen-peer-urls',
        `http://127.0.0.1:${this.peerPort}`,
        '--initial-advertise-peer-urls',
        this.peerUrl,
        '--initial-cluster',
        this.initialCluster || `${this.name}=${this.peerUrl}`,
        '--log-level',
        'warn',
        ...(this.opts.args ?? []),
      ],
      { stdio: ['ignore', log, log] },
    );
    if (waitHealthy) await this.waitHealthy();
  }

  async waitHealthy(): Promise<void> {
    for (let i = 0; i < 200; i++) {
      if (this.proc?.exitCode !== null) throw new Error(`etcd exited; see ${join(this.dir, 'etcd.log')}`);
      try {
        const res = await fetch(`${this.endpoint}/health`);
        if (res.ok && ((await res.json()) as { health: string }).health === 'true') return;
      } catch {
        /* not up yet */
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('etcd did not become healthy within 20 s');
  }

  /** Runs etcdctl against this etcd, as `auth`'s user when given. */
  etcdctl(args: string[], auth?: { user: string; password: string }): string {
    return etcdctl([this.endpoint], [...(auth ? ['--user', `${auth.user}:${auth.password}`] : []), ...args]);
  }

  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGKILL');
    });
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A multi-member etcd on loopback (3 by default). Members can be killed and
 * restarted one at a time on the same ports and data; the cluster serves while a
 * majority runs.
 */
export class TestEtcdCluster {
  readonly members: TestEtcd[];

  constructor(size = 3, opts: Omit<TestEtcdOptions, 'name'> = {}) {
    this.members = Array.from({ length: size }, (_, i) => new TestEtcd({ ...opts, name: `m${i}` }));
  }

  get endpoints(): string[] {
    return this.members.map((m) => m.endpoint);
  }

  async start(): Promise<void> {
    for (const m of this.members) await m.allocatePorts();
    const initial = this.members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
    for (const m of this.members) m.initialCluster = initial;
    // Members wait for each other to form a quorum: start all, then wait for each.
    for (const m of this.members) await m.start(false);
    for (const m of this.members) await m.waitHealthy();
  }

  async destroy(): Promise<void> {
    for (const m of this.members) await m.destroy();
  }
}

/** Runs etcdctl (v3 API) against these endpoints; throws with its stderr on failure. */
export function etcdctl(endpoints: string[], args: string[]): string {
  const bin = process.env.ETCDCTL_BIN ?? 'etcdctl';
  const r = spawnSync(bin, ['--endpoints', endpoints.join(','), '--command-timeout=10s', ...args], {
    encoding: 'utf8',
    env: { ...process.env, ETCDCTL_API: '3' },
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`etcdctl ${args.join(' ')}: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

/** True while etcd has raised its NOSPACE alarm (the quota is reached: writes are refused). */
export function etcdFull(endpoints: string[]): boolean {
  return /NOSPACE/.test(etcdctl(endpoints, ['alarm', 'list']));
}

/**
 * What an operator does once space was freed (keys deleted): compact the history,
 * defragment every member, and disarm the NOSPACE alarm so etcd accepts writes again.
 */
export function relieveQuota(endpoints: string[]): void {
  const status = JSON.parse(etcdctl([endpoints[0]], ['endpoint', 'status', '-w', 'json'])) as {
    Status: { header: { revision: number } };
  }[];
  const rev = status[0].Status.header.revision;
  try {
    etcdctl(endpoints, ['compaction', '--physical', String(rev)]);
  } catch (err) {
    if (!/compacted/.test(String(err))) throw err;
  }
  for (const e of endpoints) etcdctl([e], ['defrag']);
  etcdctl(endpoints, ['alarm', 'disarm']);
}

/** etcdctl without blocking this process's event loop (proxies and timers keep running). */
export function etcdctlAsync(endpoints: string[], args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(
      process.env.ETCDCTL_BIN ?? 'etcdctl',
      ['--endpoints', endpoints.join(','), '--command-timeout=10s', ...args],
      { env: { ...process.env, ETCDCTL_API: '3' }, timeout: 60_000, maxBuffer: 1 << 20 },
      (err, stdout, stderr) =>
        err ? reject(new Error(`etcdctl ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout),
    ),
  );
}

/** relieveQuota, asynchronously, over the members that run. */
export async function relieveQuotaAsync(endpoints: string[]): Promise<void> {
  const status = JSON.parse(await etcdctlAsync(endpoints, ['endpoint', 'status', '-w', 'json'])) as {
    Status: { header: { revision: number } };
  }[];
  const rev = Math.max(...status.map((s) => s.Status.header.revision));
  await etcdctlAsync(endpoints, ['compaction', '--physical', String(rev)]).catch((err) => {
    if (!/compacted/.test(String(err))) throw err;
  });
  for (const e of endpoints) await etcdctlAsync([e], ['defrag']);
  await etcdctlAsync(endpoints, ['alarm', 'disarm']);
}
