// The job spec's fields: types, allowed values and documentation, the source of
// schemas/job.schema.json and of `peppercorn explain job.*`. The enums and the field list
// are the validator's own (spec.ts, policies.ts, deps.ts, alert-rules.ts); cross-field rules
// (a cron expression, fields only some kinds take) stay in validateJob, which has the last word.
import { KINDS, POLICIES } from '../job/spec';
import { OVERLAPS, MISFIRES } from '../job/policies';
import { CONDITIONS } from '../job/deps';
import { RUN_ALERT_RULES } from '../job/alert-rules';
import { JOB_NAME_RE } from '../job/shape';
import { PULLS, NETWORK_RE } from '../job/isolation';
import type { Shape } from './shape';
import { duration, labelMap, text } from './common';

const SEM_NAME = '^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$';
const jobName = (doc: string): Shape => ({
  type: 'string',
  pattern: JOB_NAME_RE.source,
  patternHint: 'is not a job name; use 1-63 lower-case letters, digits and "-"',
  doc,
});
const condition: Shape = {
  type: 'string',
  enum: CONDITIONS,
  doc: 'success (default): run after the parent succeeds; failure: after it fails; always: after it completes.',
};

/** Alert rules of a job (also the alerting config's `defaults`). */
export const ALERT_RULES_SHAPE: Shape = {
  type: 'anyOf',
  what: 'off, false, or a map of alert rules',
  doc: 'Alert rules; absent: the cluster defaults; off (or false): never alert for this job.',
  options: [
    { type: 'string', enum: ['off'] },
    { type: 'boolean' },
    {
      type: 'object',
      fields: {
        on: {
          type: 'anyOf',
          what: `a run outcome or a list of them (${RUN_ALERT_RULES.join(', ')})`,
          options: [
            { type: 'string', enum: RUN_ALERT_RULES },
            { type: 'list', of: { type: 'string', enum: RUN_ALERT_RULES } },
          ],
          doc: 'One alert per run ending so. Default: failure, timeout, lost.',
        },
        consecutiveFailures: {
          type: 'integer',
          minimum: 1,
          doc: 'One alert when this many completed runs in a row did not succeed.',
        },
        deadman: duration('Alert when the job has not succeeded for this long (at least 10s).', ['2h']),
        channels: {
          type: 'anyOf',
          what: 'a channel name or a list of them',
          options: [{ type: 'string' }, { type: 'list', of: { type: 'string' } }],
          doc: 'Channels of the alerting config to notify. Default: every channel.',
        },
        resolved: { type: 'boolean', doc: 'Also notify when the alert resolves (the job succeeds again).' },
      },
    },
  ],
};

export const JOB_SHAPE: Shape = {
  type: 'object',
  doc: 'A Peppercorn job spec (`peppercorn job apply -f FILE`). One spec, a list, or { jobs: [...] } per document.',
  required: ['name', 'command'],
  fields: {
    name: jobName('Unique name of the job: 1-63 lower-case letters, digits and "-" (a DNS label).'),
    kind: {
      type: 'string',
      enum: KINDS,
      doc: 'cron: by the clock (schedule); loop: run N times or forever with a delay between runs; once: at a time, or only when triggered by hand or by a parent (after). Default cron when a schedule is given.',
    },
    schedule: text(
      'kind cron: 5 fields, or 6 with seconds first; H for a stable spread; @hourly, @daily...; "@every 10s".',
      { examples: ['0 2 * * *', 'H 2 * * *', '*/5 * * * * *', '@every 10s'] },
    ),
    timezone: text('IANA time zone of the schedule (and of times shown for the job). Default UTC.', {
      examples: ['Europe/Paris'],
    }),
    at: text('kind once: the instant to run at (ISO 8601). Without it the job runs only when triggered.', {
      examples: ['2030-01-01T00:00:00Z'],
    }),
    after: {
      type: 'list',
      doc: 'kind once without at: run after these jobs complete (an AND-join of their newest runs).',
      of: {
        type: 'anyOf',
        what: 'a job name or { job, condition }',
        options: [
          jobName('The parent job.'),
          { type: 'object', required: ['job'], fields: { job: jobName('The parent job.'), condition } },
        ],
      },
    },
    condition: { ...condition, doc: `With after: the condition every parent must meet (${condition.doc})` },
    times: {
      type: 'integer',
      minimum: 0,
      doc: 'kind loop: how many runs; 0 (default) runs forever, supervised.',
    },
    delay: duration('kind loop: pause between runs. Default 0s.', ['3s']),
    command: text('The shell command, run with /bin/sh -c.', { minLength: 1 }),
    env: {
      type: 'map',
      keyPattern: '^[A-Za-z_][A-Za-z0-9_]*$',
      values: { type: 'string' },
      doc: 'Environment variables of the run (values are text; quote numbers).',
    },
    workdir: text('Working directory (absolute path).', {
      pattern: '^/',
      patternHint: 'must be an absolute path',
    }),
    user: text('Run as this user (the agent must run as root).', {
      pattern: '^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,31}$',
      patternHint: 'is not a user name',
    }),
    timeout: duration('Stop a run after this long: SIGTERM to its process group, SIGKILL 5 s later.', [
      '10m',
    ]),
    selector: labelMap('Only nodes with these labels run the job.'),
    labels: labelMap(
      "The job's own labels, for operators: `job ls -l team=billing`, `job apply --prune -l team=billing`.",
    ),
    policy: {
      type: 'string',
      enum: POLICIES,
      doc: "When a run's node dies mid-run: at-most-once (default) marks it lost and never re-runs it; at-least-once runs it again elsewhere.",
    },
    retries: {
      type: 'anyOf',
      what: 'a number of retries, or { count, backoff }',
      doc: 'Retry a failed run: each attempt is its own run (attempt 2, 3...); the backoff doubles each time.',
      options: [
        { type: 'integer', minimum: 0 },
        {
          type: 'object',
          required: ['count'],
          fields: {
            count: { type: 'integer', minimum: 0, doc: 'Attempts after the first.' },
            backoff: duration('Wait before the first retry; doubled for each next one. Default 10s.', [
              '30s',
            ]),
          },
        },
      ],
    },
    overlap: {
      type: 'string',
      enum: OVERLAPS,
      doc: 'A firing meets a run still going: skip (default), queue (one waits), replace (stop the old one) or allow.',
    },
    misfire: {
      type: 'anyOf',
      what: 'skip, once or all, or { policy, maxCatchUp, deadline }',
      doc: 'Times no node launched in time: skip (default), once (run the latest), all (run them, up to maxCatchUp).',
      options: [
        { type: 'string', enum: MISFIRES },
        {
          type: 'object',
          fields: {
            policy: { type: 'string', enum: MISFIRES, doc: 'skip, once or all.' },
            maxCatchUp: {
              type: 'integer',
              minimum: 1,
              doc: 'With all: at most this many missed times run (the latest).',
            },
            deadline: duration('A missed time older than this is dropped, whatever the policy.', ['1h']),
          },
        },
      ],
    },
    jitter: duration('kind cron: every firing moves by a stable offset (derived from the name) up to this.', [
      '30s',
    ]),
    concurrency: {
      type: 'integer',
      minimum: 1,
      maximum: 1000,
      doc: 'At most this many runs of the job in flight, cluster-wide.',
    },
    mutex: text('Jobs sharing a mutex never run at the same time anywhere in the cluster.', {
      pattern: SEM_NAME,
      patternHint: 'is not a mutex name; use lower-case letters, digits, ".", "_" or "-"',
    }),
    resources: {
      type: 'map',
      keyPattern: SEM_NAME,
      values: { type: 'integer', minimum: 1 },
      doc: 'Named semaphores shared by jobs: name → its size (every job naming it must give the same size).',
    },
    image: text(
      'Run the command in a container of this image (node label runtime= required), e.g. alpine:3.20.',
    ),
    pull: {
      type: 'string',
      enum: PULLS,
      doc: 'When to pull the image: never, missing (default) or always. Container jobs only.',
    },
    volumes: {
      type: 'list',
      of: { type: 'string' },
      doc: 'Host paths mounted into the container: host-path:container-path[:ro]. Container jobs only.',
    },
    network: text(
      "The container's network: none, host or a network of the node's runtime. Container jobs only.",
      {
        pattern: NETWORK_RE.source,
        patternHint: 'is not a network name',
      },
    ),
    limits: {
      type: 'object',
      fields: {
        cpu: { type: 'number', minimum: 0, doc: 'CPU cores the run may use, e.g. 0.5.' },
        memory: text(
          'Memory the run may use, with a unit: 256Mi, 1Gi. Past it the run is killed and recorded as OOM.',
        ),
        pids: { type: 'integer', minimum: 1, doc: 'Most processes the run may have at once.' },
      },
      doc: 'Resource limits: through the container runtime for container jobs, cgroups (or prlimit) for plain jobs.',
    },
    alerts: ALERT_RULES_SHAPE,
    paused: { type: 'boolean', doc: 'A paused job is not launched by the clock (manual runs still work).' },
    description: text('Free text for people.'),
    uid: text(
      "The job's incarnation, set by the store (shown by `job get -o json`); accepted back and ignored.",
    ),
  },
};
