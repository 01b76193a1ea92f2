// `npm run package:agent`: the agent/CLI as server artifacts that need nothing on the server.
// For each architecture (linux-x64, linux-arm64) it writes into release/agent/:
//   peppercorn-<version>-linux-<arch>.tar.gz   peppercorn (launcher), lib/ (bundle, Node runtime,
//                                              etcd's API, the web console), the unit, an example
//                                              config and secrets file, INSTALL
//   peppercorn_<version>_<amd64|arm64>.deb      the same tree under /usr/lib/peppercorn, plus
//                                              /usr/bin/peppercorn, the unit, /etc/peppercorn,
//                                              /var/lib/peppercorn
// The code is one esbuild bundle (agent, CLI and their npm packages); the runtime is the Node
// pinned as the project's `node` devDependency, taken from the npm packages node-linux-<arch>
// (fetched with `npm pack`, so an arm64 build is assembled on x64 too).
//
// lib/lease-worker.js, beside the bundle, is the lease keepalive thread's script.
//
// Options: --arch x64,arm64 (default both)  --out DIR (default release/agent)  --no-deb
const { build } = require('esbuild');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const { basename, dirname, join, relative } = require('node:path');

const root = join(__dirname, '..');
const pkg = require(join(root, 'package.json'));
const version = pkg.version;
const nodeVersion = pkg.devDependencies.node;
const DEB_ARCH = { x64: 'amd64', arm64: 'arm64' };

function parseArgs(argv) {
  const opts = { archs: ['x64', 'arm64'], out: join(root, 'release', 'agent'), deb: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--arch') opts.archs = argv[++i].split(',');
    else if (a === '--out') opts.out = argv[++i];
    else if (a === '--no-deb') opts.deb = false;
    else
      throw new Error(
        `unknown option ${a}; usage: package-agent.js [--arch x64,arm64] [--out DIR] [--no-deb]`,
      );
  }
  for (const a of opts.archs)
    if (!DEB_ARCH[a]) throw new Error(`unknown architecture "${a}": use x64 or arm64`);
  return opts;
}

/**
 * Paths that the bundled code computes from its own file's location, rewritten for the
 * package's layout (lib/peppercorn.js beside lib/proto and lib/renderer). A rewrite that no
 * longer matches fails the build, so a moved file cannot ship a broken path.
 */
const RELOCATIONS = [
  {
    file: /etcd3[\\/]lib[\\/]connection-pool\.js$/,
    from: '`${__dirname}/../proto/',
    to: '`${__dirname}/proto/',
  },
  {
    file: /agent[\\/]console[\\/]server[\\/]web-server\.ts$/,
    from: "resolve(__dirname, '..', '..', '..', 'renderer')",
    to: "resolve(__dirname, 'renderer')",
  },
];

function relocate() {
  return {
    name: 'relocate',
    setup(b) {
      const seen = new Set();
      b.onLoad({ filter: /(connection-pool\.js|web-server\.ts)$/ }, async (args) => {
        const r = RELOCATIONS.find((x) => x.file.test(args.path));
        if (!r) return undefined;
        const text = await fs.promises.readFile(args.path, 'utf8');
        if (!text.includes(r.from))
          throw new Error(`${args.path} no longer contains ${r.from}: update RELOCATIONS`);
        seen.add(r);
        return { contents: text.split(r.from).join(r.to), loader: args.path.endsWith('.ts') ? 'ts' : 'js' };
      });
      b.onEnd((res) => {
        if (res.errors.length) return;
        const missing = RELOCATIONS.filter((r) => !seen.has(r));
        if (missing.length) throw new Error(`not bundled any more: ${missing.map((r) => r.file).join(', ')}`);
      });
    },
  };
}

/**
 * Bundles the agent and CLI (agent/cli/main.ts) into `outFile`. With `externalPackages`, npm
 * packages stay `require`s (the lean npm package lists them as dependencies); returns the
 * names of the packages the bundle uses.
 */
async function bundleAgent(outFile, { externalPackages = false, target = 'node24' } = {}) {
  const res = await build({
    // The lease keepalive thread's script (agent/node/lease-worker.ts) is a file of its own,
    // beside the bundle: lease-keeper.ts starts it from `__dirname`, in dist/ and here alike.
    entryPoints: {
      [basename(outFile, '.js')]: join(root, 'agent', 'cli', 'main.ts'),
      'lease-worker': join(root, 'agent', 'node', 'lease-worker.ts'),
    },
    outdir: dirname(outFile),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: [target],
    packages: externalPackages ? 'external' : undefined,
    // Electron is never loaded by the CLI (the desktop app is a separate package).
    external: ['electron'],
    plugins: externalPackages ? [relocateRendererOnly()] : [relocate()],
    metafile: true,
    legalComments: 'linked',
    logLevel: 'warning',
  });
  const used = new Set();
  for (const input of Object.keys(res.metafile.inputs)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
    if (m) used.add(m[1]);
  }
  for (const out of Object.values(res.metafile.outputs))
    for (const imp of out.imports) if (imp.external && !imp.path.startsWith('node:')) used.add(imp.path);
  return [...used].sort();
}

/** For the lean npm package: etcd3 stays in node_modules, so only the renderer moves. */
function relocateRendererOnly() {
  const r = RELOCATIONS[1];
  return {
    name: 'relocate-renderer',
    setup(b) {
      b.onLoad({ filter: /web-server\.ts$/ }, async (args) => {
        const text = await fs.promises.readFile(args.path, 'utf8');
        if (!text.includes(r.from)) throw new Error(`${args.path} no longer contains ${r.from}`);
        return { contents: text.split(r.from).join(r.to), loader: 'ts' };
      });
    },
  };
}

/** The web console's files (built by scripts/build-renderer.js), without source maps. */
function copyRenderer(dest) {
  const src = join(root, 'dist', 'renderer');
  if (!fs.existsSync(join(src, 'index.html')))
    throw new Error('dist/renderer is not built: run `npm run build` first');
  fs.cpSync(src, dest, { recursive: true, filter: (p) => !p.endsWith('.map') });
}

/** bin/node and LICENSE of node-linux-<arch>@<pinned>, from a cached `npm pack`. */
function nodeRuntime(arch) {
  const cache = join(root, 'node_modules', '.cache', 'peppercorn-node');
  const name = `node-linux-${arch}`;
  const dir = join(cache, `${name}-${nodeVersion}`);
  if (!fs.existsSync(join(dir, 'package', 'bin', 'node'))) {
    fs.mkdirSync(cache, { recursive: true });
    const tgz = join(cache, `${name}-${nodeVersion}.tgz`);
    if (!fs.existsSync(tgz))
      execFileSync('npm', ['pack', `${name}@${nodeVersion}`, '--pack-destination', cache, '--silent'], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir);
    execFileSync('tar', ['-xzf', tgz, '-C', dir, 'package/bin/node', 'package/LICENSE']);
  }
  return { node: join(dir, 'package', 'bin', 'node'), license: join(dir, 'package', 'LICENSE') };
}

const LAUNCHER = `#!/bin/sh
# peppercorn: the agent and CLI, run by the Node runtime shipped beside it (lib/node).
here=$(dirname "$(readlink -f "$0")")
exec "$here/lib/node" "$here/lib/peppercorn.js" "$@"
`;

/** The self-contained tree: peppercorn, lib/{peppercorn.js,node,proto,renderer,...}. */
function stageApp(dir, common, arch) {
  fs.mkdirSync(join(dir, 'lib'), { recursive: true });
  fs.cpSync(common, join(dir, 'lib'), { recursive: true });
  const rt = nodeRuntime(arch);
  fs.copyFileSync(rt.node, join(dir, 'lib', 'node'));
  fs.chmodSync(join(dir, 'lib', 'node'), 0o755);
  fs.copyFileSync(rt.license, join(dir, 'lib', 'NODE-LICENSE'));
  fs.writeFileSync(join(dir, 'peppercorn'), LAUNCHER, { mode: 0o755 });
}

function packagingFile(name) {
  return join(root, 'packaging', name);
}

function tarball(work, common, arch, out) {
  const name = `peppercorn-${version}-linux-${arch}`;
  const dir = join(work, name);
  stageApp(dir, common, arch);
  for (const f of ['peppercorn-agent.service', 'agent.yaml', 'INSTALL'])
    fs.copyFileSync(packagingFile(f), join(dir, f));
  fs.copyFileSync(packagingFile('agent.env'), join(dir, 'agent.env'));
  fs.chmodSync(join(dir, 'agent.env'), 0o600);
  const file = join(out, `${name}.tar.gz`);
  execFileSync('tar', ['--owner=0', '--group=0', '--numeric-owner', '-czf', file, '-C', work, name]);
  return file;
}

function deb(work, common, arch, out) {
  const debArch = DEB_ARCH[arch];
  const r = join(work, `deb-${arch}`);
  const app = join(r, 'usr', 'lib', 'peppercorn');
  stageApp(app, common, arch);
  fs.mkdirSync(join(r, 'usr', 'bin'), { recursive: true });
  // Relative, so the tree also works where it is extracted (tests, dpkg --root).
  fs.symlinkSync('../lib/peppercorn/peppercorn', join(r, 'usr', 'bin', 'peppercorn'));
  fs.mkdirSync(join(r, 'lib', 'systemd', 'system'), { recursive: true });
  fs.copyFileSync(
    packagingFile('peppercorn-agent.service'),
    join(r, 'lib/systemd/system/peppercorn-agent.service'),
  );
  fs.mkdirSync(join(r, 'etc', 'peppercorn'), { recursive: true, mode: 0o755 });
  fs.copyFileSync(packagingFile('agent.yaml'), join(r, 'etc/peppercorn/agent.yaml'));
  fs.chmodSync(join(r, 'etc/peppercorn/agent.yaml'), 0o644);
  fs.copyFileSync(packagingFile('agent.env'), join(r, 'etc/peppercorn/agent.env'));
  fs.chmodSync(join(r, 'etc/peppercorn/agent.env'), 0o600);
  fs.mkdirSync(join(r, 'var', 'lib', 'peppercorn'), { recursive: true });
  fs.chmodSync(join(r, 'var', 'lib', 'peppercorn'), 0o700);
  const doc = join(r, 'usr', 'share', 'doc', 'peppercorn');
  fs.mkdirSync(doc, { recursive: true });
  fs.copyFileSync(packagingFile('INSTALL'), join(doc, 'INSTALL'));
  fs.writeFileSync(
    join(doc, 'copyright'),
    `Peppercorn: ${pkg.license}.\nThe Node.js runtime in /usr/lib/peppercorn/lib/node: see /usr/lib/peppercorn/lib/NODE-LICENSE.\n`,
  );
  const control = join(r, 'DEBIAN');
  fs.mkdirSync(control);
  const installedKiB = Math.ceil(
    Number(execFileSync('du', ['-sk', '--exclude=DEBIAN', r]).toString().split('\t')[0]),
  );
  fs.writeFileSync(
    join(control, 'control'),
    [
      'Package: peppercorn',
      `Version: ${version}`,
      `Architecture: ${debArch}`,
      'Maintainer: Peppercorn <peppercorn@localhost>',
      `Installed-Size: ${installedKiB}`,
      // What the bundled Node runtime links against (glibc 2.28, GLIBCXX 3.4.21); perl-base and
      // util-linux (setpriv) for the runs' spawner (agent/runner/spawner.ts).
      'Depends: libc6 (>= 2.28), libstdc++6 (>= 5.2), libgcc-s1 | libgcc1, perl-base, util-linux',
      'Section: admin',
      'Priority: optional',
      'Description: distributed cron on etcd (agent and CLI)',
      ' Agents on your servers register in etcd, elect a leader and run the jobs the',
      ' leader assigns them; every scheduled time is launched once. Includes its own',
      ' Node.js runtime and the peppercorn-agent systemd unit.',
      '',
    ].join('\n'),
  );
  fs.writeFileSync(join(control, 'conffiles'), '/etc/peppercorn/agent.yaml\n/etc/peppercorn/agent.env\n');
  for (const s of ['postinst', 'prerm', 'postrm']) {
    fs.copyFileSync(packagingFile(join('deb', s)), join(control, s));
    fs.chmodSync(join(control, s), 0o755);
  }
  const file = join(out, `peppercorn_${version}_${debArch}.deb`);
  execFileSync('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', r, file], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return file;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const agentVersion = /VERSION = '([^']+)'/.exec(
    fs.readFileSync(join(root, 'agent', 'version.ts'), 'utf8'),
  )?.[1];
  if (agentVersion !== version)
    throw new Error(`agent/version.ts says ${agentVersion}, package.json ${version}: make them equal`);
  fs.mkdirSync(opts.out, { recursive: true });
  const work = fs.mkdtempSync(join(opts.out, '.work-'));
  try {
    const common = join(work, 'common');
    await bundleAgent(join(common, 'peppercorn.js'));
    fs.mkdirSync(join(common, 'proto'));
    const protoDir = join(root, 'node_modules', 'etcd3', 'proto');
    for (const f of fs.readdirSync(protoDir)) fs.copyFileSync(join(protoDir, f), join(common, 'proto', f));
    copyRenderer(join(common, 'renderer'));
    const made = [];
    for (const arch of opts.archs) {
      made.push(tarball(work, common, arch, opts.out));
      if (opts.deb) made.push(deb(work, common, arch, opts.out));
    }
    for (const f of made)
      console.log(`${relative(process.cwd(), f) || f}  ${(fs.statSync(f).size / 1048576).toFixed(1)} MiB`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

module.exports = { bundleAgent, copyRenderer, RELOCATIONS };

if (require.main === module)
  main().catch((err) => {
    console.error(`package:agent: ${err.message}`);
    process.exit(1);
  });
