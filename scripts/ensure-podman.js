// Finds podman, runc and a static busybox (the container tests build their image from it), or
// installs Debian's packages when we are root on Debian. Used by `npm test`. Missing pieces are an
// error, not a reason to skip: the container tests must run.
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

const staticBusybox = () => existsSync('/bin/busybox') && spawnSync('/bin/busybox', ['true']).status === 0;
const missing = () =>
  [
    ['podman', have('podman')],
    ['runc', have('runc')],
    ['busybox-static', staticBusybox()],
  ]
    .filter(([, ok]) => !ok)
    .map(([pkg]) => pkg);

function ensurePodman() {
  let need = missing();
  if (!need.length) return;
  const root = process.getuid && process.getuid() === 0;
  if (root && have('apt-get')) {
    console.error(`${need.join(', ')} not found: installing Debian packages…`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const run = (args) => spawnSync('apt-get', args, { stdio: 'inherit', env }).status === 0;
    if (run(['update', '-qq']) && run(['install', '-y', '-qq', ...need])) need = missing();
    if (!need.length) return;
  }
  console.error(
    `the container tests need ${need.join(', ')}, which were not found.\n` +
      `  Debian/Ubuntu: sudo apt-get install -y podman runc busybox-static`,
  );
  process.exit(1);
}

module.exports = { ensurePodman };
if (require.main === module) ensurePodman();
