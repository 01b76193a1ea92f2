// `npm run package:npm`: the agent and CLI as a lean npm package, release/npm/peppercorn-agent-<v>.tgz.
// Prebuilt JavaScript (one esbuild bundle of our code) and the web console's files; its
// dependencies are only the npm packages that bundle requires (etcd3, yaml, pino, ...), at the
// versions of our package.json. No build step at install: `npm install peppercorn-agent-<v>.tgz`
// and `npm ci --omit=dev` need no TypeScript, Electron or Playwright.
//
// Options: --out DIR (default release/npm)
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const { join } = require('node:path');
const { bundleAgent, copyRenderer } = require('./package-agent');

const root = join(__dirname, '..');
const pkg = require(join(root, 'package.json'));

async function main() {
  const args = process.argv.slice(2);
  const out = args[0] === '--out' ? args[1] : join(root, 'release', 'npm');
  fs.mkdirSync(out, { recursive: true });
  const dir = fs.mkdtempSync(join(out, '.work-'));
  try {
    const used = await bundleAgent(join(dir, 'lib', 'peppercorn.js'), {
      externalPackages: true,
      target: 'node22',
    });
    const dependencies = {};
    for (const name of used) {
      const range = pkg.dependencies[name];
      if (!range)
        throw new Error(`the agent bundle requires "${name}", which is not a dependency in package.json`);
      dependencies[name] = range;
    }
    copyRenderer(join(dir, 'lib', 'renderer'));
    fs.mkdirSync(join(dir, 'bin'));
    fs.writeFileSync(
      join(dir, 'bin', 'peppercorn'),
      "#!/usr/bin/env node\n// The `peppercorn` command (agent and CLI), prebuilt.\nrequire('../lib/peppercorn.js');\n",
      { mode: 0o755 },
    );
    const manifest = {
      name: 'peppercorn-agent',
      version: pkg.version,
      description: `${pkg.description} The agent and the CLI, without the desktop app.`,
      license: pkg.license,
      bin: { peppercorn: 'bin/peppercorn' },
      files: ['bin', 'lib'],
      engines: { node: '>=22' },
      dependencies,
    };
    fs.writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
    fs.writeFileSync(
      join(dir, 'README.md'),
      `# peppercorn-agent\n\nThe Peppercorn agent and CLI (\`peppercorn\`), prebuilt, without the desktop console.\n\n` +
        '```sh\nnpm install -g peppercorn-agent-' +
        pkg.version +
        '.tgz\npeppercorn agent --etcd http://etcd1:2379\n```\n',
    );
    const name = execFileSync('npm', ['pack', '--silent', '--pack-destination', out], {
      cwd: dir,
      encoding: 'utf8',
    })
      .trim()
      .split('\n')
      .pop();
    const file = join(out, name);
    console.log(
      `${file}  ${(fs.statSync(file).size / 1048576).toFixed(1)} MiB; dependencies: ${used.join(', ')}`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`package:npm: ${err.message}`);
  process.exit(1);
});
