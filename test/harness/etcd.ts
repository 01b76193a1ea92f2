// A real etcd for tests: Debian's etcd-server on free loopback ports with a
// temporary data dir. It can be stopped and started again on the same ports and
// data, to test recovery from an etcd restart.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
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

export class TestEtcd {
  readonly dir = mkdtempSync(join(tmpdir(), 'peppercorn-etcd-'));
  clientPort = 0;
  peerPort = 0;
  private proc: ChildProcess | undefined;

  get endpoint(): string {
    return `http://127.0.0.1:${this.clientPort}`;
  }

  async start(): Promise<void> {
    if (!this.clientPort) {
      this.clientPort = await freePort();
      this.peerPort = await freePort();
    }
    const log = openSync(join(this.dir, 'etcd.log'), 'a');
    this.proc = spawn(
      process.env.ETCD_BIN ?? 'etcd',
      [
        '--name',
        'test',
        '--data-dir',
        join(this.dir, 'data'),
        '--listen-client-urls',
        this.endpoint,
        '--advertise-client-urls',
        this.endpoint,
        '--listen-peer-urls',
        `http://127.0.0.1:${this.peerPort}`,
        '--initial-advertise-peer-urls',
        `http://127.0.0.1:${this.peerPort}`,
        '--initial-cluster',
        `test=http://127.0.0.1:${this.peerPort}`,
        '--log-level',
        'warn',
      ],
      { stdio: ['ignore', log, log] },
    );
    await this.waitHealthy();
  }

  private async waitHealthy(): Promise<void> {
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

  /** Runs etcdctl against this etcd (v3 API); throws with its output when it fails. */
  etcdctl(args: string[], auth?: { user: string; password: string }): string {
    const bin = process.env.ETCDCTL_BIN ?? 'etcdctl';
    const r = spawnSync(
      bin,
      ['--endpoints', this.endpoint, ...(auth ? ['--user', `${auth.user}:${auth.password}`] : []), ...args],
      { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' }, timeout: 20_000 },
    );
    if (r.status !== 0)
      throw new Error(`etcdctl ${args.join(' ')} failed: ${r.stderr || r.stdout || r.error}`);
    return r.stdout;
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
