// Stable string hashing: the same input gives the same number on every machine and every run,
// which is what H expansion and crontab name suffixes rely on (Math.random would not).

/** 32-bit FNV-1a over the UTF-8 bytes of `text`. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  // TextEncoder, not Buffer: the component tests run the job model in a browser page.
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}
