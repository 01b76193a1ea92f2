// The editor's isolation fields: the container a job runs in (image, pull, network, volumes) and
// its resource limits (cpu, memory, pids), for container and plain jobs alike.
import { fromNumber, fromText, isMap, withField, withSub } from './draft';
import { Field, listInput, ParsedInput, Select, TextInput } from './controls';
import type { SectionProps } from './sections';

export function ContainerFields({ draft, update, errors, setLocal }: SectionProps) {
  const boxed = draft.image !== undefined;
  return (
    <>
      <Field
        id="image"
        label="container image"
        errors={errors.at('image')}
        hint="empty: run on the node itself; set: run in a container on a node with podman or docker"
      >
        <TextInput
          id="image"
          value={draft.image}
          onChange={(t) => update((d) => withField(d, 'image', fromText(t)))}
          placeholder="docker.io/library/alpine:3.20"
        />
      </Field>
      {(boxed || draft.pull !== undefined) && (
        <Field id="pull" label="pull the image" errors={errors.at('pull')}>
          <Select
            id="pull"
            value={draft.pull}
            unset="not set (missing)"
            options={[
              ['missing', 'missing: when the node does not have it'],
              ['always', 'always: before every run'],
              ['never', 'never: the node must have it'],
            ]}
            onChange={(v) => update((d) => withField(d, 'pull', fromText(v)))}
          />
        </Field>
      )}
      {(boxed || draft.network !== undefined) && (
        <Field
          id="network"
          label="network"
          errors={errors.at('network')}
          hint="none, host or a network's name"
        >
          <TextInput
            id="network"
            value={draft.network}
            onChange={(t) => update((d) => withField(d, 'network', fromText(t)))}
            placeholder="the runtime's default"
          />
        </Field>
      )}
      {(boxed || draft.volumes !== undefined) && (
        <Field
          id="volumes"
          label="volumes"
          errors={errors.at('volumes')}
          hint="host-path:container-path[:ro], separated by commas"
        >
          <ParsedInput
            id="volumes"
            value={draft.volumes}
            {...listInput}
            placeholder="/srv/data:/data:ro"
            onChange={(v) => update((d) => withField(d, 'volumes', v))}
            onLocalError={(e) => setLocal('volumes', e)}
          />
        </Field>
      )}
    </>
  );
}

export function LimitsField({ draft, update, errors }: SectionProps) {
  const l = isMap(draft.limits) ? draft.limits : {};
  const set = (key: string, value: unknown) => update((d) => withSub(d, 'limits', key, value));
  const subs = ['limits.cpu', 'limits.memory', 'limits.pids'];
  return (
    <Field
      id="limits"
      label="resource limits"
      errors={errors.at('limits', subs)}
      hint="through cgroups (or the container runtime); see the README for what applies where"
      group
    >
      <div className="subfields">
        <Field id="limits.cpu" label="cpu" errors={errors.at('limits.cpu')}>
          <TextInput
            id="limits.cpu"
            value={l.cpu}
            onChange={(t) => set('cpu', fromNumber(t))}
            placeholder="0.5"
          />
        </Field>
        <Field id="limits.memory" label="memory" errors={errors.at('limits.memory')}>
          <TextInput
            id="limits.memory"
            value={l.memory}
            // A bare number is sent as a number, so the check can say it lacks a unit.
            onChange={(t) => set('memory', fromNumber(t))}
            placeholder="256Mi"
          />
        </Field>
        <Field id="limits.pids" label="processes" errors={errors.at('limits.pids')}>
          <TextInput
            id="limits.pids"
            value={l.pids}
            onChange={(t) => set('pids', fromNumber(t))}
            placeholder="200"
          />
        </Field>
      </div>
    </Field>
  );
}
