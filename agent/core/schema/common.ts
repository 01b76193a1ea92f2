// Shapes several files share: durations, labels, endpoints.
import type { Shape } from './shape';

export const DURATION_PATTERN = '^((\\d+(\\.\\d+)?|\\.\\d+)(ms|s|m|h|d))+$';

export const duration = (doc: string, examples: string[] = ['30s']): Shape => ({
  type: 'string',
  pattern: DURATION_PATTERN,
  patternHint: 'is not a duration; use e.g. 30s, 1m30s or 2h (units ms, s, m, h, d)',
  doc,
  examples,
});

export const text = (doc: string, extra: Partial<Extract<Shape, { type: 'string' }>> = {}): Shape => ({
  type: 'string',
  doc,
  ...extra,
});

export const labelMap = (doc: string): Shape => ({
  type: 'map',
  keyPattern: '^[A-Za-z0-9]([A-Za-z0-9._/-]{0,251}[A-Za-z0-9])?$',
  values: { type: 'string' },
  doc,
});
