// `peppercorn keys generate` (a signing key pair), `--sign-key` for `job apply`, and
// `peppercorn job history NAME` (the audit trail).
import type { Command } from 'commander';
import { KeyFileError, generateKeyFiles, readSigningKey, type SigningKey } from '../core/signing';
import type { AuditEntry } from '../core/audit';
import type { JobView } from '../api/store';
import { UsageError } from './args';
import { act, withOutput, type CliContext } from './context';
import { iso, table } from './format';
import { outputFormat, show } from './output';

export function registerKeys(program: Command, ctx: CliContext): void {
  const keys = program.command('keys').description('signing keys for job specs');
  withOutput(
    keys
      .command('generate')
      .description('make an Ed25519 key pair: FILE (private, mode 0600) and FILE.pub (one line)')
      .option('--out <file>', 'the private key file (never overwritten)', 'peppercorn-signing.key')
      .addHelpText(
        'after',
        `
Sign what you apply with it: peppercorn job apply --sign-key FILE -f jobs.yaml
Agents that require it: trustedKeys: [FILE.pub] in their config, or --trusted-keys FILE.pub.`,
      ),
    'json',
  ).action(
    act(ctx, (opts: { out: string; json?: boolean; output?: string }) => {
      let made;
      try {
        made = generateKeyFiles(opts.out);
      } catch (err) {
        if (err instanceof KeyFileError) throw new UsageError(err.message);
        throw err;
      }
      show(outputFormat(opts), {
        data: {
          keyId: made.id,
          privateKey: opts.out,
          publicKey: made.publicKey,
          publicKeyFile: made.pubPath,
        },
        text: () =>
          [
            `key id ${made.id}`,
            `private key: ${opts.out} (mode 0600; keep it secret; sign with: peppercorn job apply --sign-key ${opts.out} -f FILE)`,
            `public key:  ${made.pubPath}: ${made.publicKey}`,
            `agents that should trust it: trustedKeys: [${made.pubPath}] in their config, or --trusted-keys ${made.publicKey}`,
          ].join('\n'),
      });
      return 0;
    }),
  );
}

/** The signing key for `job apply`: --sign-key FILE, else PEPPERCORN_SIGN_KEY (a file), else none. */
export function signingKeyFrom(flag: string | undefined): SigningKey | undefined {
  const path = flag ?? process.env.PEPPERCORN_SIGN_KEY;
  if (!path) return undefined;
  try {
    return readSigningKey(path);
  } catch (err) {
    if (err instanceof KeyFileError) throw new UsageError(err.message);
    throw err;
  }
}

function who(e: AuditEntry): string {
  return `${e.osUser}@${e.host}${e.etcdUser ? ` (etcd ${e.etcdUser})` : ''}`;
}

export function describeChanges(e: AuditEntry): string {
  return e.changes
    .map((c) =>
      c.before === undefined
        ? `${c.field}: ${c.after}`
        : c.after === undefined
          ? `${c.field}: ${c.before} → (removed)`
          : `${c.field}: ${c.before} → ${c.after}`,
    )
    .join('; ');
}

export function registerJobHistory(job: Command, ctx: CliContext): void {
  withOutput(
    job
      .command('history')
      .argument('<name>', 'the job (also one deleted since)')
      .description('who changed the job (etcd user, OS user@host, signing key), when and what; newest first')
      .addHelpText(
        'after',
        `
JSON: [{at, action, etcdUser, osUser, host, keyId, changes: [{field, before, after}]}].`,
      ),
    'json|yaml',
  ).action(
    act(ctx, async (name: string, opts: { output?: string; json?: boolean }) =>
      ctx.withStore(async (store) => {
        const entries = await store.jobHistory(name);
        if (!entries.length) await store.getJob(name); // no trail and no job: most likely a typo
        show(outputFormat(opts), {
          data: entries,
          text: () =>
            entries.length
              ? table(
                  ['WHEN', 'ACTION', 'WHO', 'KEY', 'CHANGES'],
                  entries.map((e) => [
                    iso(e.at),
                    e.action,
                    who(e),
                    e.keyId === undefined ? '-' : (e.keyId ?? 'unsigned'),
                    describeChanges(e),
                  ]),
                )
              : `no recorded changes of job ${name}`,
        });
        return 0;
      }),
    ),
  );
}

/** `job get`'s header: YAML comments (the spec still applies back unchanged). */
export function jobComments(j: JobView): string {
  const lines = [j.signedBy ? `signed by key ${j.signedBy}` : 'unsigned'];
  for (const r of j.refusedBy ?? []) lines.push(`refused by node ${r.node}: ${r.reason}`);
  return lines.map((l) => `# ${l}\n`).join('');
}
