// `npm start`: the desktop console, when Electron's binary is present. Builds first.
// Without the binary (it cannot always be downloaded) it says so and points to the web console.
const { spawnSync, spawn } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');

function electronBinary() {
  try {
    const dir = join(root, 'node_modules', 'electron');
    const pathTxt = join(dir, 'path.txt');
    if (!existsSync(pathTxt)) return null;
    const p = join(dir, 'dist', require('node:fs').readFileSync(pathTxt, 'utf8').trim());
    return existsSync(p) ? p : null;
  } catch {
    return null;
  }
}

const bin = electronBinary();
if (!bin) {
  console.error(
    "Electron's binary is not installed here (node_modules/electron has no dist/).\n" +
      '  Fetch it where the network allows: npx install-electron (or reinstall electron)\n' +
      '  Or use the same console in your browser: npx peppercorn console [--etcd URL] [--port N]',
  );
  process.exit(1);
}
for (const [cmd, args] of [
  [join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json']],
  [process.execPath, [join(__dirname, 'build-renderer.js')]],
]) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root });
  if (r.status !== 0) process.exit(r.status || 1);
}
const child = spawn(bin, [join(root, 'dist', 'electron', 'main.js')], { stdio: 'inherit', cwd: root });
child.on('exit', (code) => process.exit(code ?? 0));
