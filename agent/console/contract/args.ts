// How both transports check a call's or stream's arguments before the server sees them.
export type ArgType = 'string' | 'number' | 'object' | 'connection';
const NAME_MAX = 4096;

const isPlain = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function checkConnection(v: unknown): string | null {
  if (!isPlain(v)) return 'a connection must be an object';
  if (typeof v.name !== 'string' || v.name.length > 200) return 'connection name must be a short string';
  if (!Array.isArray(v.endpoints) || !v.endpoints.every((e) => typeof e === 'string'))
    return 'connection endpoints must be a list of URLs';
  if (typeof v.prefix !== 'string') return 'connection prefix must be a string';
  for (const f of ['id', 'user', 'password', 'cacert', 'cert', 'key', 'signingKeyFile']) {
    if (v[f] !== undefined && typeof v[f] !== 'string') return `connection ${f} must be a string`;
  }
  if (v.storeInClearText !== undefined && typeof v.storeInClearText !== 'boolean')
    return 'connection storeInClearText must be true or false';
  return null;
}

function checkOne(type: ArgType, v: unknown, i: number): string | null {
  switch (type) {
    case 'string':
      return typeof v === 'string' && v.length <= NAME_MAX ? null : `argument ${i + 1} must be a string`;
    case 'number':
      return typeof v === 'number' && Number.isFinite(v) ? null : `argument ${i + 1} must be a number`;
    case 'object':
      return isPlain(v) ? null : `argument ${i + 1} must be an object`;
    case 'connection':
      return checkConnection(v);
  }
}

/** null when `name(...args)` is one of `specs` with well-typed arguments, else why not. */
export function checkArgs(
  specs: Record<string, ArgType[]>,
  kind: string,
  name: unknown,
  args: unknown,
): string | null {
  if (typeof name !== 'string' || !Object.prototype.hasOwnProperty.call(specs, name))
    return `unknown ${kind} ${JSON.stringify(String(name)).slice(0, 80)}`;
  if (!Array.isArray(args)) return `${name}: arguments must be a list`;
  const spec = specs[name];
  if (args.length !== spec.length) return `${name}: expected ${spec.length} argument(s), got ${args.length}`;
  for (let i = 0; i < spec.length; i++) {
    const err = checkOne(spec[i], args[i], i);
    if (err) return `${name}: ${err}`;
  }
  return null;
}
