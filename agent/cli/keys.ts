// `peppercorn keys generate` (a signing key pair), `--sign-key` for `job apply`, and
// `peppercorn job history NAME` (the audit trail).
import { KeyFileError, generateKeyFiles, readSigningKey, type SigningKey } from '../core/signing';
import type { AuditEntry } from '../core/audit';
import type { JobView, Store } from '../core/store';
import { parseFlags, UsageError, type GlobalOptions } from './args';
import { iso, table } from './format';
import { print } from './io';

export function keysCommand(global: GlobalOptions, args: string[]): number {
  const { flags, positionals } = parseFlags(args, { out: { type: 'string', short: 'o' } });
  if (positionals[0] !== 'generate')
    throw new UsageError(
      'use `peppercorn keys generate [--out FILE]` (default file: ./peppercorn-signing.key)',
    );
  const path = (flags.out as string | undefined) ?? positionals[1] ?? 'peppercorn-signing.key';
  let made;
  try {
    made = generateKeyFiles(path);
  } catch (err) {
    if (err instanceof KeyFileError) throw new UsageError(err.message);
    throw err;
  }
  print(global, { keyId: made.id, privateKey: path, publicKey: made.pubPath, public: made.publicKey }, () =>
    [
      `key id ${made.id}`,
      `private key: ${path} (mode 0600; keep it secret; sign with: peppercorn job apply --sign-key ${path} -f FILE)`,
      `public key:  ${made.pubPath}: ${made.publicKey}`,
      `agents that should trust it: trustedKeys: [${made.pubPath}] in their config, or --trusted-keys ${made.publicKey}`,
    ].join('\n'),
  );
  return 0;
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

export async function jobHistoryCommand(store: Store, global: GlobalOptions, name: string): Promise<number> {
  const entries = await store.jobHistory(name);
  if (!entries.length) {
    // No trail and no job: most likely a typo.
    await store.getJob(name);
  }
  print(global, entries, () =>
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
      : `no recorded changes of job ${name} (changes are recorded from this version on)`,
  );
  return 0;
}

/** `job get`'s header: YAML comments (the spec still applies back unchanged). */
export function jobComments(j: JobView): string {
  const lines = [j.signedBy ? `signed by key ${j.signedBy}` : 'unsigned'];
  for (const r of j.refusedBy ?? []) lines.push(`refused by node ${r.node}: ${r.reason}`);
  return lines.map((l) => `# ${l}\n`).join('');
}
