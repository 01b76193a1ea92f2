// Finds etcd, or installs Debian's etcd-server when we are root on Debian.
// Used by `npm test`, `npm run demo` and `npm run bench`.
const { spawnSync } = require('node:child_process');

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function ensureEtcd() {
  if (process.env.ETCD_BIN || have('etcd')) return;
  const root = process.getuid && process.getuid() === 0;
  if (root && have('apt-get')) {
    console.error('etcd not found: installing Debian packages etcd-server etcd-client…');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const run = (args) => spawnSync('apt-get', args, { stdio: 'inherit', env }).status === 0;
    if (run(['update', '-qq']) && run(['install', '-y', '-qq', 'etcd-server', 'etcd-client']) && have('etcd'))
      return;
  }
  console.error(
    'etcd is required and was not found.\n' +
      '  Debian/Ubuntu: sudo apt-get install -y etcd-server etcd-client\n' +
      '  elsewhere: install etcd 3.4+ and put `etcd` on PATH, or set ETCD_BIN=/path/to/etcd',
  );
  process.exit(1);
}

module.exports = { ensureEtcd };
if (require.main === module) ensureEtcd();
