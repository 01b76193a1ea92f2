// `peppercorn explain job.retries`: a field's documentation, from the same definition the
// validator and the published JSON Schemas come from.
import type { Command } from 'commander';
import { SCHEMAS } from '../../core/schema/catalog';
import { fieldsOf, shapeAt, typeLabel, type Shape } from '../../core/schema/shape';
import { nearest } from '../../core/job/suggest';
import { UsageError } from '../args';
import { act, type CliContext } from '../context';
import { out } from '../output';

export function explain(path: string): string {
  const [root, ...rest] = path.split('.').filter(Boolean);
  const entry = SCHEMAS.find((s) => s.name === root);
  if (!entry)
    throw new UsageError(
      `nothing to explain for "${root ?? ''}"; start with ${SCHEMAS.map((s) => s.name).join(', ')} (e.g. job.retries)`,
    );
  const shape = shapeAt(entry.shape, rest);
  if (!shape) {
    const parent = shapeAt(entry.shape, rest.slice(0, -1));
    const guess = parent ? nearest(rest[rest.length - 1], fieldsOf(parent)) : undefined;
    throw new UsageError(
      `${path}: no such field${guess ? `; did you mean ${[root, ...rest.slice(0, -1), guess].join('.')}?` : ''}${parent ? ` (fields: ${fieldsOf(parent).join(', ')})` : ''}`,
    );
  }
  const lines = [`FIELD: ${path}`, `TYPE:  ${typeLabel(shape)}`, '', shape.doc ?? '(no description)'];
  const options = shape.type === 'anyOf' ? shape.options : [shape];
  const examples = shape.examples ?? options.flatMap((o) => o.examples ?? []);
  if (examples.length) lines.push('', `EXAMPLES: ${examples.map((e) => JSON.stringify(e)).join(', ')}`);
  const fields = fieldsOf(shape);
  if (fields.length) {
    lines.push('', 'FIELDS:');
    const objects = options.filter((o): o is Extract<Shape, { type: 'object' }> => o.type === 'object');
    const own = (f: string) =>
      objects.map((o) => o.fields[f]).find(Boolean) ??
      (shape.type === 'list' && shape.of.type === 'object' ? shape.of.fields[f] : undefined);
    const required = new Set(objects.flatMap((o) => o.required ?? []));
    const width = Math.max(...fields.map((f) => f.length));
    for (const f of fields) {
      const s = own(f);
      const doc = (s?.doc ?? '').split(/(?<=\.)\s/)[0];
      lines.push(
        `  ${f.padEnd(width)}  ${s ? typeLabel(s) : ''}${required.has(f) ? ', required' : ''}${doc ? ` — ${doc}` : ''}`,
      );
    }
  }
  lines.push('', `Schema: schemas/${entry.file}`);
  return lines.join('\n') + '\n';
}

export function registerExplain(program: Command, ctx: CliContext): void {
  program
    .command('explain')
    .argument(
      '<field>',
      'job, alerting or config, then a dotted path: job.retries, alerting.channels, config.etcd',
    )
    .description("a field's documentation (job specs, the alerting config, the agent/CLI config)")
    .addHelpText(
      'after',
      '\nExamples:\n  $ peppercorn explain job\n  $ peppercorn explain job.retries.backoff\n  $ peppercorn explain config.etcd',
    )
    .action(
      act(ctx, (field: string) => {
        out(explain(field));
        return 0;
      }),
    );
}
