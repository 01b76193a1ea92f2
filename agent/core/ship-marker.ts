// The line the shipper adds after its per-run cap, defined once: the runner writes it, and a reader
// of shipped output recognizes it (it is not output, and means the rest is only in the node's file).
const PREFIX = '\n[peppercorn] output beyond ';

export function shipCapMarker(capBytes: number): string {
  return `${PREFIX}${capBytes} bytes is in the node's log file\n`;
}

export function isShipCapMarker(chunk: Buffer): boolean {
  return (
    chunk.length < 200 &&
    chunk.toString('utf8').startsWith(PREFIX) &&
    chunk.toString('utf8').endsWith("is in the node's log file\n")
  );
}
