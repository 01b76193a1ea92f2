// Isolation fields of a job: container jobs (`image`, `pull`, `volumes`, `network`) and resource
// `limits`, with their validation and the placement need they imply. A job with an image runs in
// a container through the node's runtime; only nodes that advertise a runtime (label `runtime`,
// set by the agent when it finds podman or docker) can take it.
import { isMap } from './shape';

export type PullPolicy = 'never' | 'missing' | 'always';

export interface JobLimits {
  /** CPUs (fraction allowed): 0.5 = half of one core. */
  cpu?: number;
  /** Memory with a unit: 256Mi, 1Gi, 512M... */
  memory?: string;
  /** Most processes (and threads) at once. */
  pids?: number;
}

export interface IsolationFields {
  image?: string;
  pull?: PullPolicy;
  /** host-path:container-path[:ro|rw], or named-volume:container-path[:ro|rw]. */
  volumes?: string[];
  /** none | host | a named network of the runtime. */
  network?: string;
  limits?: JobLimits;
}

/** The node label the agent sets to the runtime it found (podman, docker). */
export const RUNTIME_LABEL = 'runtime';

export const PULLS: readonly PullPolicy[] = ['never', 'missing', 'always'];
export const NETWORK_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const VOLUME_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const VOLUME_OPTS = new Set(['ro', 'rw', 'z', 'Z']);

// The reference grammar of the OCI distribution spec: [host[:port]/]path[:tag][@digest].
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN =
  '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?';
const IMAGE_RE = new RegExp(
  `^(?:(${DOMAIN})/)?(${COMPONENT}(?:/${COMPONENT})*)(?::([\\w][\\w.-]{0,127}))?(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$`,
);

/** Why an image reference does not parse, or null. */
export function checkImageReference(ref: string): string | null {
  const hint = 'write it as [registry/]name[:tag][@sha256:digest], e.g. docker.io/library/alpine:3.20';
  if (ref.trim() === '') return `must not be empty; ${hint}`;
  if (/\s/.test(ref)) return `"${ref}" contains white space; ${hint}`;
  if (ref.length > 255) return `"${ref.slice(0, 40)}…" is longer than 255 characters`;
  if (ref.includes('://')) return `"${ref}" is a URL; drop the scheme: ${hint}`;
  const m = IMAGE_RE.exec(ref);
  if (!m) {
    if (/[A-Z]/.test(ref.split(/[:@]/)[0].split('/').slice(-1)[0] ?? ''))
      return `"${ref}" is not an image reference: repository names are lower case`;
    return `"${ref}" is not an image reference; ${hint}`;
  }
  return null;
}

const MEMORY_UNITS: Record<string, number> = {
  b: 1,
  k: 1e3,
  m: 1e6,
  g: 1e9,
  t: 1e12,
  ki: 1024,
  mi: 1024 ** 2,
  gi: 1024 ** 3,
  ti: 1024 ** 4,
};

/** Bytes of a memory quantity such as 256Mi, 1G, 512k, 100b. Throws a readable Error. */
export function parseMemory(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(text.trim());
  const example = 'e.g. 256Mi, 1Gi or 512M';
  if (!m) throw new Error(`"${text}" is not a memory size; ${example}`);
  if (m[2] === '') throw new Error(`${text} has no unit; add one, ${example} (bare bytes: ${text}b)`);
  const lower = m[2].toLowerCase();
  const unit = lower.length > 1 && lower.endsWith('b') ? lower.slice(0, -1) : lower;
  const factor = MEMORY_UNITS[unit];
  if (factor === undefined) throw new Error(`"${m[2]}" is not a memory unit in "${text}"; ${example}`);
  const bytes = Math.floor(Number(m[1]) * factor);
  // Below this no shell starts; a typo such as "256k" meant "256Mi" is caught here.
  if (bytes < 4 * 1024 ** 2) throw new Error(`${text} is too small to run anything; at least 4Mi`);
  return bytes;
}

type Fail = (field: string, message: string) => void;

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (isMap(value)) return 'a map';
  return `a ${typeof value}`;
}

/** Validates the isolation fields of a job spec; returns the fields to store. */
export function validateIsolation(input: Record<string, unknown>, fail: Fail): IsolationFields {
  const out: IsolationFields = {};
  const hasImage = input.image !== undefined;

  if (hasImage) {
    if (typeof input.image !== 'string') fail('image', `must be a string, got ${typeName(input.image)}`);
    else {
      const problem = checkImageReference(input.image);
      if (problem) fail('image', problem);
      else out.image = input.image;
    }
  }
  const needsImage = (field: string) =>
    fail(field, `only applies to container jobs; add an image (e.g. image: alpine:3.20) or remove ${field}`);

  if (input.pull !== undefined) {
    if (!hasImage) needsImage('pull');
    else if (typeof input.pull === 'string' && (PULLS as readonly string[]).includes(input.pull))
      out.pull = input.pull as PullPolicy;
    else fail('pull', `${JSON.stringify(input.pull)} is not a pull policy; use never, missing or always`);
  }

  if (input.network !== undefined) {
    if (!hasImage) needsImage('network');
    else if (typeof input.network !== 'string' || !NETWORK_RE.test(input.network))
      fail(
        'network',
        `${JSON.stringify(input.network)} is not a network; use none, host or the name of a network of the node's runtime`,
      );
    else out.network = input.network;
  }

  if (input.volumes !== undefined) {
    if (!hasImage) needsImage('volumes');
    else if (!Array.isArray(input.volumes))
      fail('volumes', `must be a list of host-path:container-path[:ro], got ${typeName(input.volumes)}`);
    else {
      const volumes: string[] = [];
      input.volumes.forEach((v, i) => {
        const problem = typeof v === 'string' ? checkVolume(v) : `must be a string, got ${typeName(v)}`;
        if (problem) fail(`volumes[${i}]`, problem);
        else volumes.push(v as string);
      });
      out.volumes = volumes;
    }
  }

  if (input.limits !== undefined) {
    const limits = validateLimits(input.limits, fail);
    if (limits) out.limits = limits;
  }
  return out;
}

function checkVolume(v: string): string | null {
  const parts = v.split(':');
  const example = 'write host-path:container-path or host-path:container-path:ro, e.g. /srv/data:/data:ro';
  if (parts.length < 2 || parts.length > 3) return `"${v}" is not a volume; ${example}`;
  const [source, target, opts] = parts;
  if (!source.startsWith('/') && !VOLUME_NAME_RE.test(source))
    return `"${source}" in "${v}" is neither an absolute host path nor a volume name; ${example}`;
  if (!target.startsWith('/')) return `"${target}" in "${v}" must be an absolute path inside the container`;
  if (opts !== undefined) {
    const bad = opts.split(',').filter((o) => !VOLUME_OPTS.has(o));
    if (bad.length) return `"${bad.join(',')}" in "${v}" is not a volume option; use ro or rw`;
  }
  return null;
}

function validateLimits(value: unknown, fail: Fail): JobLimits | undefined {
  if (!isMap(value)) {
    fail('limits', `must be a map such as {cpu: 0.5, memory: 256Mi, pids: 200}, got ${typeName(value)}`);
    return undefined;
  }
  const out: JobLimits = {};
  for (const key of Object.keys(value)) {
    if (!['cpu', 'memory', 'pids'].includes(key))
      fail(`limits.${key}`, `unknown limit "${key}"; use cpu, memory or pids`);
  }
  const { cpu, memory, pids } = value;
  if (cpu !== undefined) {
    if (typeof cpu !== 'number' || !Number.isFinite(cpu) || cpu < 0.01 || cpu > 1024)
      fail(
        'limits.cpu',
        `must be a number of CPUs from 0.01 up (0.5 = half a core), got ${JSON.stringify(cpu)}`,
      );
    else out.cpu = cpu;
  }
  if (memory !== undefined) {
    if (typeof memory === 'number')
      fail(
        'limits.memory',
        `${memory} has no unit; add one, e.g. ${memory}Mi or ${memory}M (bytes: "${memory}b")`,
      );
    else if (typeof memory !== 'string')
      fail('limits.memory', `must be a size such as 256Mi, got ${typeName(memory)}`);
    else {
      try {
        parseMemory(memory);
        out.memory = memory;
      } catch (err) {
        fail('limits.memory', (err as Error).message);
      }
    }
  }
  if (pids !== undefined) {
    if (typeof pids !== 'number' || !Number.isInteger(pids) || pids < 1)
      fail('limits.pids', `must be a whole number of processes >= 1, got ${JSON.stringify(pids)}`);
    else out.pids = pids;
  }
  return out;
}

/** Node labels a job needs present (any value), beyond its selector: a container job needs a runtime. */
export function requiredLabels(job: { image?: string }): string[] {
  return job.image ? [RUNTIME_LABEL] : [];
}

/** The container's name for a run: derived from the run id, so the claim record can name it. */
export function containerName(runId: string): string {
  return `peppercorn-${runId}`;
}
