// Plain-text tables and times for the CLI. JSON output bypasses this.
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : (c ?? '').padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export function iso(ms: number | undefined | null): string {
  return ms ? new Date(ms).toISOString() : '-';
}

export function seconds(ms: number | undefined): string {
  if (ms === undefined) return '-';
  return ms < 10_000 ? `${(ms / 1000).toFixed(3)}s` : `${Math.round(ms / 1000)}s`;
}

export function labels(l: Record<string, string>): string {
  const s = Object.entries(l)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return s || '-';
}

/**
 * A time in a job's zone, as ISO 8601 with the zone's offset (2024-05-01T02:00:00+02:00;
 * Z for UTC): readable where the job lives, and still one unambiguous instant.
 */
export function zoned(ms: number | undefined | null, timeZone: string | undefined): string {
  if (!ms) return '-';
  const tz = timeZone || 'UTC';
  if (tz === 'UTC') return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  let parts: Record<string, string>;
  try {
    parts = Object.fromEntries(
      new Intl.DateTimeFormat('en-US', {
        timeZone: tz,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        timeZoneName: 'longOffset',
      })
        .formatToParts(new Date(ms))
        .map((p) => [p.type, p.value]),
    );
  } catch {
    return iso(ms);
  }
  const offset = parts.timeZoneName.replace(/^GMT/, '') || '+00:00';
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${offset}`;
}

/** "3m ago", "2h ago", "5d ago": when something happened, relative to `now`. */
export function ago(ms: number | undefined | null, now: number): string {
  if (!ms) return '-';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}
