// Real podman for container tests, on a machine with no registry. The test image is built here:
// a rootfs tarball holding a static busybox and its applet links, loaded with `podman import`.
// This machine's quirks stay here, not in the product: it has hybrid cgroups, which Debian's crun
// refuses, so podman runs with `--runtime runc`, and a containers.conf (CONTAINERS_CONF) clears
// default_ulimits, which runc cannot apply here. Agents get the runtime as `--container-runtime`.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  copyFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TEST_IMAGE = 'localhost/peppercorn-test-busybox:1';
export const PODMAN_RUNTIME = 'podman --runtime runc';

let confDir: string | undefined;

/** The environment podman needs on this machine (for agents and for the test's own podman calls). */
export function podmanEnv(): NodeJS.ProcessEnv {
  if (!confDir) {
    confDir = mkdtempSync(join(tmpdir(), 'peppercorn-podman-'));
    writeFileSync(join(confDir, 'containers.conf'), '[containers]\ndefault_ulimits = []\n');
  }
  return { ...process.env, CONTAINERS_CONF: join(confDir, 'containers.conf') };
}

/** Runs podman as the agents do; throws with podman's message on failure. */
export function podman(args: string[]): string {
  const r = spawnSync('podman', ['--runtime', 'runc', ...args], { env: podmanEnv(), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`podman ${args.join(' ')} failed: ${r.stderr || r.error}`);
  return r.stdout;
}

/** Builds and imports the busybox test image unless it is there already. */
export function ensureTestImage(): void {
  const have = spawnSync('podman', ['image', 'exists', TEST_IMAGE], { env: podmanEnv() });
  if (have.status === 0) return;
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find(
    (p) => spawnSync(p, ['true']).status === 0 && /static/.test(fileType(p)),
  );
  if (!busybox)
    throw new Error('a static busybox is needed for the test image: apt-get install -y busybox-static');
  const dir = mkdtempSync(join(tmpdir(), 'peppercorn-image-'));
  try {
    const root = join(dir, 'root');
    for (const d of ['bin', 'tmp', 'etc', 'proc', 'sys', 'dev'])
      mkdirSync(join(root, d), { recursive: true });
    copyFileSync(busybox, join(root, 'bin', 'busybox'));
    const applets = execFileSync(busybox, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
    for (const a of applets) if (a !== 'busybox') symlinkSync('busybox', join(root, 'bin', a));
    writeFileSync(
      join(root, 'etc', 'passwd'),
      'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n',
    );
    writeFileSync(join(root, 'etc', 'group'), 'root:x:0:\nnobody:x:65534:\n');
    const tar = join(dir, 'rootfs.tar');
    execFileSync('tar', ['-C', root, '-cf', tar, ...readdirSync(root)]);
    podman(['import', '--change', 'CMD=/bin/sh', tar, TEST_IMAGE]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function fileType(p: string): string {
  // `file` may be missing; a static binary has no program interpreter (PT_INTERP) to read.
  const r = spawnSync('file', ['-L', p], { encoding: 'utf8' });
  if (r.status === 0) return r.stdout;
  const ldd = spawnSync('ldd', [p], { encoding: 'utf8' });
  return /not a dynamic/.test(ldd.stdout + ldd.stderr) ? 'static' : '';
}

/** Containers (running or not) carrying this node's label. */
export function containersOf(nodeId: string, runningOnly = false): string[] {
  return podman([
    'ps',
    ...(runningOnly ? [] : ['--all']),
    '--filter',
    `label=peppercorn.node=${nodeId}`,
    '--format',
    '{{.Names}}',
  ])
    .split('\n')
    .filter(Boolean);
}
