// The published schemas: one entry per file kind, generated from the shapes the code uses.
import { toJsonSchema, type Shape } from './shape';
import { JOB_SHAPE } from './job-shape';
import { ALERTING_SHAPE } from './alerting-shape';
import { CONFIG_SHAPE } from '../agent-config';

export const SCHEMA_BASE = 'https://peppercorn.dev/schemas/';

export const SCHEMAS: { name: string; file: string; shape: Shape; title: string }[] = [
  { name: 'job', file: 'job.schema.json', shape: JOB_SHAPE, title: 'Peppercorn job spec' },
  {
    name: 'alerting',
    file: 'alerting.schema.json',
    shape: ALERTING_SHAPE,
    title: 'Peppercorn alerting config',
  },
  {
    name: 'config',
    file: 'agent-config.schema.json',
    shape: CONFIG_SHAPE,
    title: 'Peppercorn agent and CLI config',
  },
];

/**
 * The job schema accepts what `job apply` accepts: one spec, a list, or { jobs: [...] }.
 * (Several `---` documents are each checked on their own by editors.)
 */
export function schemaDocument(entry: (typeof SCHEMAS)[number]): Record<string, unknown> {
  const body = toJsonSchema(entry.shape);
  const head = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: SCHEMA_BASE + entry.file,
    title: entry.title,
  };
  if (entry.name !== 'job') return { ...head, ...body };
  return {
    ...head,
    description: body.description,
    $defs: { job: body },
    anyOf: [
      { $ref: '#/$defs/job' },
      { type: 'array', items: { $ref: '#/$defs/job' } },
      {
        type: 'object',
        required: ['jobs'],
        additionalProperties: false,
        properties: { jobs: { type: 'array', items: { $ref: '#/$defs/job' } } },
      },
    ],
  };
}

export function renderSchema(entry: (typeof SCHEMAS)[number]): string {
  return JSON.stringify(schemaDocument(entry), null, 2) + '\n';
}
