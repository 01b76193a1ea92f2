// Stable string hashing: the same input gives the same number on every machine and every run,
// which is what H expansion, crontab name suffixes and the leader's tie-breaks rely on (Math.random
// would not). The one FNV-1a in Peppercorn.

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** 32-bit FNV-1a over the UTF-8 bytes of `text`. */
export function fnv1a32(text: string): number {
  // ASCII (names, ids) is its own UTF-8: hash the code units without encoding, since the leader
  // hashes every job × node pair when it places jobs.
  let hash = FNV_OFFSET;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit > 0x7f) return fnv1a32Utf8(text);
    hash ^= unit;
    hash = Math.imul(hash, FNV_PRIME) >>> 0;
  }
  return hash >>> 0;
}

function fnv1a32Utf8(text: string): number {
  let hash = FNV_OFFSET;
  // TextEncoder, not Buffer: the component tests run the job model in a browser page.
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, FNV_PRIME) >>> 0;
  }
  return hash >>> 0;
}
