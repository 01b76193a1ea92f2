// The agent's trust settings, from flags and its config file: the keys whose signatures it
// requires (`--trusted-keys` / `trustedKeys`) and its node policy (`--allow-users`,
// `--deny-users` / `allowUsers`, `denyUsers`, `allowCommands`). A bad setting stops the
// agent at start with the field named: a node must never run with less protection than
// its operator wrote.
import { KeyFileError, loadTrustedKeys, type TrustedKey } from '../core/signing';
import { validatePolicy, type NodePolicy } from '../core/node-policy';
import { UsageError } from './args';

export const AGENT_TRUST_FLAGS = {
  'trusted-keys': { type: 'string' },
  'allow-users': { type: 'string' },
  'deny-users': { type: 'string' },
} as const;

function list(v: unknown, what: string): string[] | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string')
    return v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  throw new UsageError(`${what}: use a list (or comma-separated text)`);
}

export function agentTrust(
  flags: Record<string, string | boolean>,
  config: Record<string, unknown>,
): { trustedKeys?: TrustedKey[]; policy?: NodePolicy } {
  const keyEntries = list(flags['trusted-keys'] ?? config.trustedKeys, 'trustedKeys');
  let trustedKeys: TrustedKey[] | undefined;
  try {
    trustedKeys = keyEntries && loadTrustedKeys(keyEntries);
  } catch (err) {
    if (err instanceof KeyFileError) throw new UsageError(err.message);
    throw err;
  }
  if (keyEntries && !keyEntries.length)
    throw new UsageError(
      'trustedKeys is empty: no spec could run; list at least one public key, or leave it out',
    );
  let policy: NodePolicy;
  try {
    policy = validatePolicy({
      allowUsers: flags['allow-users'] ?? config.allowUsers,
      denyUsers: flags['deny-users'] ?? config.denyUsers,
      allowCommands: config.allowCommands,
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return { trustedKeys, policy };
}
