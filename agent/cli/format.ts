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
