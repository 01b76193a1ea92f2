// Finds Chromium for the UI tests, or installs Debian's `chromium` when we are root on Debian.
// Used by `npm test`. CHROMIUM_BIN points at another Chromium/Chrome binary.
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');

const DEFAULT = '/usr/bin/chromium';

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function ensureChromium() {
  const bin = process.env.CHROMIUM_BIN || DEFAULT;
  if (existsSync(bin)) return bin;
  const root = process.getuid && process.getuid() === 0;
  if (!process.env.CHROMIUM_BIN && root && have('apt-get')) {
    console.error('chromium not found: installing the Debian package chromium (for the UI tests)…');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const run = (args) => spawnSync('apt-get', args, { stdio: 'inherit', env }).status === 0;
    if (run(['update', '-qq']) && run(['install', '-y', '-qq', 'chromium']) && existsSync(DEFAULT))
      return DEFAULT;
  }
  console.error(
    `Chromium is required for the console's UI tests and was not found at ${bin}.\n` +
      '  Debian/Ubuntu: sudo apt-get install -y chromium\n' +
      '  elsewhere: set CHROMIUM_BIN=/path/to/chromium (or chrome)',
  );
  process.exit(1);
}

module.exports = { ensureChromium };
if (require.main === module) ensureChromium();
