// Go-style duration text ("1m30s") <-> milliseconds, plus a day unit because job delays are often long.

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

// Largest unit first, so formatDuration produces the shortest compound form.
const FORMAT_UNITS: Array<[string, number]> = [
  ['d', UNIT_MS.d],
  ['h', UNIT_MS.h],
  ['m', UNIT_MS.m],
  ['s', UNIT_MS.s],
  ['ms', UNIT_MS.ms],
];

const PART = /(\d+(?:\.\d+)?|\.\d+)([a-zA-Zµ]*)/y;

/** Parses "500ms", "10s", "1m30s", "2h", "1d", "1.5h" into milliseconds. Throws a readable Error. */
export function parseDuration(text: string): number {
  if (typeof text !== 'string') {
    throw new Error(`invalid duration ${JSON.stringify(text)}: must be text such as "30s" or "1m30s"`);
  }
  const source = text.trim();
  if (source === '') throw new Error('invalid duration "": empty; use e.g. 30s, 1m30s or 2h');
  if (/^[+-]?\d+(\.\d+)?$/.test(source)) {
    throw new Error(`invalid duration "${text}": a bare number has no unit; add a unit, e.g. 30s`);
  }
  if (source.startsWith('-')) throw new Error(`invalid duration "${text}": must not be negative`);
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < source.length) {
    const at = PART.lastIndex;
    const match = PART.exec(source);
    if (!match) {
      throw new Error(
        `invalid duration "${text}": unexpected "${source.slice(at)}"; use e.g. 30s, 1m30s or 2h`,
      );
    }
    const [, amount, unit] = match;
    if (unit === '') {
      throw new Error(`invalid duration "${text}": "${amount}" has no unit; add a unit, e.g. ${amount}s`);
    }
    const factor = UNIT_MS[unit];
    if (factor === undefined) {
      throw new Error(`invalid duration "${text}": unknown unit "${unit}"; use ms, s, m, h or d`);
    }
    total += Number(amount) * factor;
  }
  // Fractions like "1.5s" are fine, but anything finer than a millisecond cannot be honoured.
  const rounded = Math.round(total);
  if (Math.abs(total - rounded) > 1e-6) {
    throw new Error(`invalid duration "${text}": finer than a millisecond`);
  }
  if (!Number.isSafeInteger(rounded)) throw new Error(`invalid duration "${text}": too large`);
  return rounded;
}

/** Renders milliseconds as the shortest compound form: 90000 -> "1m30s", 500 -> "500ms", 0 -> "0s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) throw new Error(`cannot format duration ${ms}`);
  let rest = Math.round(Math.abs(ms));
  if (rest === 0) return '0s';
  let out = ms < 0 ? '-' : '';
  for (const [unit, factor] of FORMAT_UNITS) {
    const count = Math.floor(rest / factor);
    if (count > 0) {
      out += `${count}${unit}`;
      rest -= count * factor;
    }
  }
  return out;
}
