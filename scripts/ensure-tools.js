// Tools the packaging and metrics tests use, installed from Debian when we are root on Debian:
// dpkg-deb (dpkg), systemd-analyze (systemd) and promtool (prometheus). Best effort: a test whose
// tool is still missing reports itself as skipped with what to install, never as passed.
const { spawnSync } = require('node:child_process');

const TOOLS = { 'dpkg-deb': 'dpkg', 'systemd-analyze': 'systemd', promtool: 'prometheus' };

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function ensureTools() {
  const missing = Object.keys(TOOLS).filter((t) => !have(t));
  if (!missing.length) return;
  const root = process.getuid && process.getuid() === 0;
  if (!root || !have('apt-get')) {
    console.error(
      `not found: ${missing.join(', ')}; their tests will be skipped (Debian: apt-get install ${missing.map((t) => TOOLS[t]).join(' ')})`,
    );
    return;
  }
  const packages = [...new Set(missing.map((t) => TOOLS[t]))];
  console.error(`installing Debian packages ${packages.join(' ')} (for ${missing.join(', ')})…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (args) => spawnSync('apt-get', args, { stdio: 'inherit', env }).status === 0;
  if (!(run(['update', '-qq']) && run(['install', '-y', '-qq', '--no-install-recommends', ...packages])))
    console.error(`could not install ${packages.join(' ')}; their tests will be skipped`);
}

module.exports = { ensureTools };
if (require.main === module) ensureTools();
