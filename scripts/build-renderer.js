// Bundles the console UI (renderer/ -> dist/renderer) and the Electron main and
// preload (electron/ -> dist/electron/{main,preload}.js) with esbuild.
// The renderer has no Node imports; the preload is one file because sandboxed
// preloads cannot require our modules.
const { buildSync } = require('esbuild');
const { copyFileSync, mkdirSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const out = join(root, 'dist');

function buildRenderer() {
  mkdirSync(join(out, 'renderer'), { recursive: true });
  buildSync({
    entryPoints: { app: join(root, 'renderer', 'main.tsx') },
    bundle: true,
    outdir: join(out, 'renderer'),
    platform: 'browser',
    format: 'iife',
    target: ['chrome120'],
    jsx: 'automatic',
    minify: true,
    sourcemap: true,
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  });
  copyFileSync(join(root, 'renderer', 'index.html'), join(out, 'renderer', 'index.html'));
}

function buildElectron() {
  const common = {
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: ['node20'],
    outdir: join(out, 'electron'),
    external: ['electron'],
    sourcemap: true,
    logLevel: 'warning',
  };
  // Main: our code bundled, npm packages (etcd3, yaml, ...) loaded from node_modules.
  buildSync({
    ...common,
    entryPoints: { main: join(root, 'electron', 'main', 'main.ts') },
    packages: 'external',
  });
  buildSync({ ...common, entryPoints: { preload: join(root, 'electron', 'preload', 'preload.ts') } });
}

buildRenderer();
buildElectron();
