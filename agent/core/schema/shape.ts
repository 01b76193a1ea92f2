// One definition of a file's fields — types, allowed values, documentation — from which
// both the strict validator and the published JSON Schema (schemas/*.json) are derived,
// and which `peppercorn explain` reads. A Shape is plain data so it can be walked three ways.
import { nearest } from '../job/suggest';
import { isMap } from '../job/shape';

interface Base {
  /** What the field means; shown by `peppercorn explain` and as the schema's description. */
  doc?: string;
  examples?: unknown[];
}

export type Shape =
  | (Base & {
      type: 'string';
      enum?: readonly string[];
      pattern?: string;
      patternHint?: string;
      minLength?: number;
    })
  | (Base & { type: 'integer'; minimum?: number; maximum?: number })
  | (Base & { type: 'number'; minimum?: number })
  | (Base & { type: 'boolean' })
  | (Base & { type: 'list'; of: Shape; minItems?: number })
  | (Base & { type: 'map'; values: Shape; keyPattern?: string })
  | (Base & {
      type: 'object';
      fields: Record<string, Shape>;
      required?: readonly string[];
      /** Names people reach for from other tools (lower case) → the field meant. */
      aliases?: Record<string, string>;
    })
  | (Base & { type: 'anyOf'; options: Shape[]; /** e.g. "a URL or a list of URLs" */ what: string });

export interface ShapeError {
  field: string;
  message: string;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (isMap(value)) return 'a map';
  if (typeof value === 'number' && Number.isInteger(value)) return `the number ${value}`;
  return `a ${typeof value}`;
}

function describe(shape: Shape): string {
  switch (shape.type) {
    case 'string':
      return shape.enum ? `one of ${shape.enum.join(', ')}` : 'a string';
    case 'integer':
      return shape.minimum !== undefined ? `a whole number ≥ ${shape.minimum}` : 'a whole number';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'true or false (without quotes)';
    case 'list':
      return `a list of ${describe(shape.of).replace(/^an? /, '')}s`;
    case 'map':
    case 'object':
      return 'a map';
    case 'anyOf':
      return shape.what;
  }
}

const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

/** Every problem of `value` against `shape`, each naming its field (dotted path). */
export function checkShape(shape: Shape, value: unknown, path = ''): ShapeError[] {
  const errors: ShapeError[] = [];
  const fail = (message: string) => errors.push({ field: path || '(file)', message });
  const wrongType = () =>
    fail(
      `must be ${describe(shape)}, got ${typeName(value)}${
        shape.type === 'string' && (typeof value === 'number' || typeof value === 'boolean')
          ? `; quote it: "${String(value)}"`
          : ''
      }`,
    );
  switch (shape.type) {
    case 'string':
      if (typeof value !== 'string') wrongType();
      else if (shape.enum && !shape.enum.includes(value))
        fail(`${JSON.stringify(value)} is not allowed; use ${shape.enum.join(', ')}`);
      else if (shape.minLength !== undefined && value.length < shape.minLength) fail('must not be empty');
      else if (shape.pattern && !new RegExp(shape.pattern).test(value))
        fail(`${JSON.stringify(value)} ${shape.patternHint ?? `does not match ${shape.pattern}`}`);
      break;
    case 'integer':
    case 'number':
      if (typeof value !== 'number' || (shape.type === 'integer' && !Number.isInteger(value))) wrongType();
      else if (shape.minimum !== undefined && value < shape.minimum)
        fail(`must be ≥ ${shape.minimum}, got ${value}`);
      else if (shape.type === 'integer' && shape.maximum !== undefined && value > shape.maximum)
        fail(`must be ≤ ${shape.maximum}, got ${value}`);
      break;
    case 'boolean':
      if (typeof value !== 'boolean') wrongType();
      break;
    case 'list':
      if (!Array.isArray(value)) wrongType();
      else {
        if (shape.minItems !== undefined && value.length < shape.minItems)
          fail(`needs at least ${shape.minItems} item(s)`);
        value.forEach((v, i) => errors.push(...checkShape(shape.of, v, `${path}[${i}]`)));
      }
      break;
    case 'map':
      if (!isMap(value)) wrongType();
      else
        for (const [k, v] of Object.entries(value)) {
          if (shape.keyPattern && !new RegExp(shape.keyPattern).test(k))
            errors.push({ field: join(path, k), message: `"${k}" is not a valid key here` });
          errors.push(...checkShape(shape.values, v, join(path, k)));
        }
      break;
    case 'object':
      if (!isMap(value)) wrongType();
      else {
        const names = Object.keys(shape.fields);
        for (const [k, v] of Object.entries(value)) {
          const field = shape.fields[k];
          if (field) errors.push(...checkShape(field, v, join(path, k)));
          else {
            const guess = shape.aliases?.[k.toLowerCase()] ?? nearest(k, names);
            errors.push({
              field: join(path, k),
              message: `unknown key "${k}"${guess ? `; did you mean "${guess}"?` : `; known keys: ${names.join(', ')}`}`,
            });
          }
        }
        for (const r of shape.required ?? [])
          if (value[r] === undefined) errors.push({ field: join(path, r), message: 'required' });
      }
      break;
    case 'anyOf': {
      if (!shape.options.some((o) => checkShape(o, value, path).length === 0)) {
        // The option of the same JSON type explains best (e.g. a list with one bad item).
        const same = shape.options.find((o) => sameKind(o, value));
        if (same) errors.push(...checkShape(same, value, path));
        else fail(`must be ${shape.what}, got ${typeName(value)}`);
      }
      break;
    }
  }
  return errors;
}

function sameKind(shape: Shape, value: unknown): boolean {
  switch (shape.type) {
    case 'list':
      return Array.isArray(value);
    case 'map':
    case 'object':
      return isMap(value);
    case 'integer':
    case 'number':
      return typeof value === 'number';
    case 'anyOf':
      return shape.options.some((o) => sameKind(o, value));
    default:
      return typeof value === shape.type;
  }
}

/** The JSON Schema (draft 2020-12) of a shape. */
export function toJsonSchema(shape: Shape): Record<string, unknown> {
  const meta: Record<string, unknown> = {};
  if (shape.doc) meta.description = shape.doc;
  if (shape.examples) meta.examples = shape.examples;
  switch (shape.type) {
    case 'string':
      return {
        type: 'string',
        ...(shape.enum ? { enum: [...shape.enum] } : {}),
        ...(shape.pattern ? { pattern: shape.pattern } : {}),
        ...(shape.minLength !== undefined ? { minLength: shape.minLength } : {}),
        ...meta,
      };
    case 'integer':
    case 'number':
      return {
        type: shape.type,
        ...(shape.minimum !== undefined ? { minimum: shape.minimum } : {}),
        ...(shape.type === 'integer' && shape.maximum !== undefined ? { maximum: shape.maximum } : {}),
        ...meta,
      };
    case 'boolean':
      return { type: 'boolean', ...meta };
    case 'list':
      return {
        type: 'array',
        items: toJsonSchema(shape.of),
        ...(shape.minItems !== undefined ? { minItems: shape.minItems } : {}),
        ...meta,
      };
    case 'map':
      return {
        type: 'object',
        additionalProperties: toJsonSchema(shape.values),
        ...(shape.keyPattern ? { propertyNames: { pattern: shape.keyPattern } } : {}),
        ...meta,
      };
    case 'object':
      return {
        type: 'object',
        properties: Object.fromEntries(Object.entries(shape.fields).map(([k, v]) => [k, toJsonSchema(v)])),
        ...(shape.required?.length ? { required: [...shape.required] } : {}),
        additionalProperties: false,
        ...meta,
      };
    case 'anyOf':
      return { anyOf: shape.options.map(toJsonSchema), ...meta };
  }
}

/** The shape at a dotted path (`retries.count`), looking through lists, maps and alternatives. */
export function shapeAt(shape: Shape, path: string[]): Shape | undefined {
  if (path.length === 0) return shape;
  const [head, ...rest] = path;
  switch (shape.type) {
    case 'object':
      return shape.fields[head] ? shapeAt(shape.fields[head], rest) : undefined;
    case 'list':
      return shapeAt(shape.of, path);
    case 'map':
      return shapeAt(shape.values, rest);
    case 'anyOf':
      for (const o of shape.options) {
        const found = shapeAt(o, path);
        if (found) return found;
      }
      return undefined;
    default:
      return undefined;
  }
}

/** Field names directly under a shape (for `explain` and "did you mean"). */
export function fieldsOf(shape: Shape): string[] {
  if (shape.type === 'object') return Object.keys(shape.fields);
  if (shape.type === 'list') return fieldsOf(shape.of);
  if (shape.type === 'anyOf') return [...new Set(shape.options.flatMap(fieldsOf))];
  return [];
}

/** A short type label for `explain`. */
export function typeLabel(shape: Shape): string {
  return describe(shape);
}
