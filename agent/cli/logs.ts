// `--since` of `peppercorn logs` (the command itself is commands/logs.ts; where the output comes
// from is api/run-output.ts).
import { parseDuration } from '../core/job/duration';
import { UsageError } from './args';

/** `--since 10m` (that long ago) or an ISO time. */
export function parseSince(text: string, now: number): number {
  if (/^\d{4}-\d\d-\d\d/.test(text)) {
    const t = Date.parse(text);
    if (Number.isFinite(t)) return t;
  } else {
    try {
      return now - parseDuration(text);
    } catch {
      // fall through to the usage message
    }
  }
  throw new UsageError(
    `--since takes a duration back from now (30s, 10m, 2h) or a time (2025-01-31T12:00:00Z), got "${text}"`,
  );
}
