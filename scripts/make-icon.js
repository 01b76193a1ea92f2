// Draws build/icon.png (512×512: a peppercorn on a dark rounded square) without any image library.
// Run once; the PNG is kept in the repository for electron-builder.
const { deflateSync, crc32 } = require('node:zlib');
const { writeFileSync, mkdirSync } = require('node:fs');
const { join } = require('node:path');

const N = 512;
const px = Buffer.alloc(N * (N * 4 + 1));
for (let y = 0; y < N; y++) {
  px[y * (N * 4 + 1)] = 0; // filter: none
  for (let x = 0; x < N; x++) {
    const o = y * (N * 4 + 1) + 1 + x * 4;
    const r = 96;
    const cx = Math.min(Math.max(x, r), N - r) - x;
    const cy = Math.min(Math.max(y, r), N - r) - y;
    const inside = cx * cx + cy * cy <= r * r;
    const d = Math.hypot(x - 256, y - 270);
    const hl = Math.hypot(x - 215, y - 225);
    let c = [20, 22, 26, inside ? 255 : 0];
    if (inside && d < 150) c = hl < 40 ? [240, 190, 110, 255] : [224, 160, 64, 255];
    if (inside && Math.abs(x - 256) < 14 && y > 90 && y < 140) c = [80, 160, 90, 255];
    px.set(c, o);
  }
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td) >>> 0);
  return Buffer.concat([len, td, crc]);
}
const ihdr = Buffer.alloc(13);
ihdr.writeUInt32BE(N, 0);
ihdr.writeUInt32BE(N, 4);
ihdr.set([8, 6, 0, 0, 0], 8);
const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  chunk('IHDR', ihdr),
  chunk('IDAT', deflateSync(px)),
  chunk('IEND', Buffer.alloc(0)),
]);
mkdirSync(join(__dirname, '..', 'build'), { recursive: true });
writeFileSync(join(__dirname, '..', 'build', 'icon.png'), png);
