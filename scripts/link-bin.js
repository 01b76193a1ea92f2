// Makes `npx peppercorn` work in this checkout: npm links the bins of
// dependencies into node_modules/.bin, but not the root package's own.
const { mkdirSync, symlinkSync, rmSync } = require('node:fs');
const { join } = require('node:path');

const binDir = join(__dirname, '..', 'node_modules', '.bin');
mkdirSync(binDir, { recursive: true });
const link = join(binDir, 'peppercorn');
rmSync(link, { force: true });
symlinkSync(join('..', '..', 'bin', 'peppercorn'), link);
