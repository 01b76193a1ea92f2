// Configuration fails closed and secrets stay off command lines; crontabs from Debian
// packages import with their meaning (zone, user, names). Real etcd, real processes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { TestCluster, CLI, ROOT, waitFor } from '../harness/cluster';
import { validateJob } from '../../agent/core/job/spec';

const tc = new TestCluster();
before(() => tc.start());
after(() => tc.stop());

/** The CLI with only the given environment (no PEPPERCORN_* from the harness). */
function cli(args: string[], env: NodeJS.ProcessEnv = {}, input?: string) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH, ...env },
    input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('a config with a typo, a wrong type or an unknown key is refused naming the key; nothing falls back', () => {
  const cases: [string, RegExp][] = [
    [`etdc: ${tc.etcd.endpoint}\n`, /etdc: unknown key "etdc"; did you mean "etcd"\?/],
    [`etcd: ${tc.etcd.endpoint}\nleaseTtl: "5"\n`, /leaseTtl: must be a whole number ≥ 2, got a string/],
    [`etcd: [${tc.etcd.endpoint}, 7]\n`, /etcd\[1\]: must be a string, got the number 7/],
    [
      `etcd: ${tc.etcd.endpoint}\nfrobnicate: true\n`,
      /frobnicate: unknown key "frobnicate"; known keys: etcd,/,
    ],
    [`etcd: ${tc.etcd.endpoint}\npassword: 12345\n`, /password: must be a string, got the number 12345/],
  ];
  for (const [text, message] of cases) {
    const file = tc.write('bad-config.yaml', text);
    chmodSync(file, 0o600);
    for (const args of [
      ['job', 'ls'],
      ['agent', '--check-config'],
      ['agent', '--node-id', 'never'],
    ]) {
      const r = cli(['--config', file, ...args]);
      assert.equal(r.status, 2, `${args.join(' ')} with ${text}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /refused \(nothing was used from it\)/);
      assert.doesNotMatch(r.stderr, /127\.0\.0\.1:2379/, 'no fallback to the default etcd');
    }
    const env = cli(['job', 'ls'], { PEPPERCORN_CONFIG: file });
    assert.equal(env.status, 2);
  }
  // A good config lists endpoints as a YAML list; --check-config says what it will use.
  const good = tc.write(
    'good.yaml',
    `etcd:\n  - ${tc.etcd.endpoint}\nprefix: ${tc.prefix}\nlabels: { zone: eu }\nleaseTtl: 3\n`,
  );
  const check = cli(['--config', good, 'agent', '--check-config', '--node-id', 'checked']);
  assert.equal(check.status, 0, check.stderr);
  assert.match(check.stdout, new RegExp(`valid\\netcd: ${tc.etcd.endpoint.replace(/[.]/g, '\\.')}`));
  assert.match(check.stdout, /node: checked {2}labels: \{"zone":"eu"\}/);
  assert.equal(cli(['--config', good, 'job', 'ls', '-o', 'json']).status, 0);
});

test('no password on the command line; a world-readable secret is refused with the chmod to run', () => {
  const r = cli(['--password', 'hunter2', 'job', 'ls']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--password is not accepted[^\n]*PEPPERCORN_PASSWORD[^\n]*--password-file/);
  const cfg = tc.write('open.yaml', `etcd: ${tc.etcd.endpoint}\nuser: ops\npassword: hunter2\n`);
  chmodSync(cfg, 0o644);
  const open = cli(['--config', cfg, 'job', 'ls']);
  assert.equal(open.status, 2);
  assert.match(
    open.stderr,
    new RegExp(
      `password: the file holds a secret and is readable by others \\(mode 0644\\); run: chmod 600 ${cfg}`,
    ),
  );
  assert.doesNotMatch(open.stderr + open.stdout, /hunter2/);
  const pw = tc.write('pw', 'hunter2\n');
  chmodSync(pw, 0o644);
  const f = cli(['--etcd', tc.etcd.endpoint, '--user', 'ops', '--password-file', pw, 'job', 'ls']);
  assert.equal(f.status, 2);
  assert.match(f.stderr, /chmod 600/);
  // Over plain http:// a password is sent with a warning (this etcd has no auth: it is refused).
  chmodSync(pw, 0o600);
  const warned = cli(['--etcd', tc.etcd.endpoint, '--user', 'ops', '--password-file', pw, 'job', 'ls']);
  assert.match(warned.stderr, /warning: sending the etcd password over plain http:\/\//);
});

test('no secret in /proc/*/cmdline of the agent, its runs or a waiting CLI', async () => {
  const secret = `pc-secret-${process.pid}-${Date.now()}`;
  const pw = tc.write('agent-pw', `${secret}\n`);
  chmodSync(pw, 0o600);
  // No user: the password is read (and checked) but etcd here has no auth.
  const cfg = tc.write(
    'agent.yaml',
    `etcd: ${tc.etcd.endpoint}\nprefix: ${tc.prefix}\npasswordFile: ${pw}\nleaseTtl: 3\n`,
  );
  chmodSync(cfg, 0o600);
  const dataDir = mkdtempSync(join(tmpdir(), 'pc-secret-'));
  const agent = spawn(
    process.execPath,
    [CLI, '--config', cfg, 'agent', '--node-id', 'secretive', '--data-dir', dataDir],
    {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, PEPPERCORN_PASSWORD_FILE: pw },
      stdio: 'ignore',
    },
  );
  try {
    await waitFor('the agent to join', async () =>
      (await tc.store.listNodes()).some((n) => n.id === 'secretive' && n.alive),
    );
    tc.apply('name: sleeper\nkind: once\nselector: {}\ncommand: sleep 3\n');
    const id = await waitFor('a run to start', async () => {
      const r = tc.cli(['job', 'run', 'sleeper']);
      return r.status === 0 ? r.stdout.trim() : undefined;
    });
    const waiting = spawn(process.execPath, [CLI, 'logs', id, '--follow'], {
      env: { ...tc.env(), PEPPERCORN_PASSWORD: secret },
      stdio: 'ignore',
    });
    await waitFor('the run to be running', async () => (await tc.store.getRun(id))?.status === 'running');
    const leaks: string[] = [];
    let seen = 0;
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      let cmdline: string;
      try {
        cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      if (cmdline.includes(CLI) || cmdline.includes('sleep')) seen++;
      if (cmdline.includes(secret)) leaks.push(`${pid}: ${cmdline.replace(/\0/g, ' ')}`);
    }
    assert.ok(seen >= 3, 'the agent, the waiting CLI and the run were looked at');
    assert.deepEqual(leaks, []);
    waiting.kill();
  } finally {
    agent.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});

/** Crontab files from Debian packages: downloaded and extracted now, else the committed copies. */
function debianCrontabs(): { dir: string; userExample: string; from: string } {
  const work = mkdtempSync(join(tmpdir(), 'pc-debs-'));
  const dl = spawnSync('apt-get', ['download', 'sysstat', 'certbot', 'mdadm', 'e2fsprogs'], {
    cwd: work,
    encoding: 'utf8',
    timeout: 120_000,
  });
  const debs = existsSync(work) ? readdirSync(work).filter((f) => f.endsWith('.deb')) : [];
  if (dl.status === 0 && debs.length === 4) {
    for (const d of debs) spawnSync('dpkg-deb', ['-x', join(work, d), join(work, 'root')]);
    const dir = join(work, 'root', 'etc', 'cron.d');
    copyFileSync(
      join(work, 'root', 'usr', 'share', 'doc', 'sysstat', 'examples', 'crontab'),
      join(work, 'sysstat-user-example'),
    );
    return {
      dir,
      userExample: join(work, 'sysstat-user-example'),
      from: `the Debian packages (${debs.join(', ')})`,
    };
  }
  const fixtures = join(ROOT, 'test', 'fixtures', 'crontabs');
  return {
    dir: fixtures,
    userExample: join(fixtures, 'sysstat-user-example'),
    from: 'test/fixtures/crontabs (apt-get download failed)',
  };
}

test('crontabs from Debian packages import with the local zone, their users, names from the file and kept stdin', () => {
  const { dir, userExample, from } = debianCrontabs();
  process.stderr.write(`# crontabs from ${from}\n`);
  const expect: Record<string, { jobs: number; user: string }> = {
    sysstat: { jobs: 2, user: 'root' },
    certbot: { jobs: 1, user: 'root' },
    mdadm: { jobs: 1, user: 'root' },
    e2scrub_all: { jobs: 2, user: 'root' },
  };
  const env = { ...tc.env(), TZ: 'Asia/Kolkata' };
  // The real layout: an /etc/cron.d directory.
  const etc = mkdtempSync(join(tmpdir(), 'pc-etc-'));
  const crond = join(etc, 'etc', 'cron.d');
  spawnSync('mkdir', ['-p', crond]);
  for (const file of Object.keys(expect)) copyFileSync(join(dir, file), join(crond, file));
  for (const [file, want] of Object.entries(expect)) {
    const r = spawnSync(process.execPath, [CLI, 'import-crontab', join(crond, file)], {
      env,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stderr,
      /job\(s\) in Asia\/Kolkata \(this machine's local zone, from TZ=Asia\/Kolkata\)/,
      file,
    );
    const jobs = parseAllDocuments(r.stdout).map((d) => d.toJS());
    assert.equal(jobs.length, want.jobs, `${file}: ${r.stdout}\n${r.stderr}`);
    const base = file.replace('_', '-');
    jobs.forEach((j, i) => {
      assert.equal(j.name, `${base}-${i + 1}`);
      assert.equal(j.timezone, 'Asia/Kolkata');
      assert.equal(j.user, want.user);
      assert.ok(validateJob(j).ok, `${file}: ${JSON.stringify(j)}`);
    });
    const applied = tc.cli(['job', 'apply', '-f', '-', '--dry-run'], r.stdout);
    assert.equal(applied.status, 0, applied.stderr);
  }
  // --timezone wins over the machine's zone and is said so.
  const tz = spawnSync(
    process.execPath,
    [CLI, 'import-crontab', join(crond, 'sysstat'), '--timezone', 'Europe/Paris'],
    {
      env,
      encoding: 'utf8',
    },
  );
  assert.match(tz.stderr, /2 job\(s\) in Europe\/Paris \(--timezone\)/);
  // mdadm's "\%d" is a literal percent: no stdin, the command keeps date +%d.
  const mdadm = spawnSync(process.execPath, [CLI, 'import-crontab', join(crond, 'mdadm')], {
    env,
    encoding: 'utf8',
  });
  assert.match(mdadm.stdout, /\$\(date \+%d\) -le 7/);
  // A user crontab (no user column) runs as its owner, said so; --user overrides.
  const user = join(etc, 'sysstat-user-example');
  copyFileSync(userExample, user);
  spawnSync('chown', ['nobody', user]);
  const owned = spawnSync(process.execPath, [CLI, 'import-crontab', user], { env, encoding: 'utf8' });
  assert.equal(owned.status, 0, owned.stderr);
  assert.match(owned.stderr, /jobs run as nobody, the owner of/);
  const ujobs = parseAllDocuments(owned.stdout).map((d) => d.toJS());
  assert.deepEqual(
    ujobs.map((j) => [j.name, j.user, j.schedule]),
    [
      ['sysstat-user-example-1', 'nobody', '0 * * * *'],
      ['sysstat-user-example-2', 'nobody', '7 0 * * *'],
    ],
  );
  const as = spawnSync(process.execPath, [CLI, 'import-crontab', user, '--user', 'adm'], {
    env,
    encoding: 'utf8',
  });
  assert.match(as.stdout, /user: adm/);
  // %-stdin survives as a here-document that feeds the command.
  const pct = tc.write('pct.cron', '0 1 * * * tr a-z A-Z%hello%world\n');
  const p = spawnSync(process.execPath, [CLI, 'import-crontab', pct, '--user', 'nobody'], {
    env,
    encoding: 'utf8',
  });
  const cmd = parseAllDocuments(p.stdout)[0].toJS().command as string;
  assert.equal(spawnSync('/bin/sh', ['-c', cmd], { encoding: 'utf8' }).stdout, 'HELLO\nWORLD\n');
  rmSync(etc, { recursive: true, force: true });
});
