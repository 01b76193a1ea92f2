// The agent's trust settings, from flags and its config file: the keys whose signatures it
// requires (`--trusted-keys` / `trustedKeys`) and its node policy (`--allow-users`,
// `--deny-users` / `allowUsers`, `denyUsers`, `allowCommands`). A bad setting stops the
// agent at start with the setting named: a node must never run with less protection than
// its operator wrote.
import { KeyFileError, loadTrustedKeys, type TrustedKey } from '../core/signing';
import { validatePolicy, type NodePolicy } from '../core/node-policy';
import type { ConfigFile } from '../core/agent-config';
import { UsageError } from './args';

const list = (text: string | undefined) =>
  text
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export function agentTrust(
  flags: { trustedKeys?: string; allowUsers?: string; denyUsers?: string },
  config: ConfigFile,
): { trustedKeys?: TrustedKey[]; policy?: NodePolicy } {
  const keyEntries = list(flags.trustedKeys) ?? config.trustedKeys;
  if (keyEntries && !keyEntries.length)
    throw new UsageError(
      'trustedKeys is empty: no spec could run; list at least one public key, or leave it out',
    );
  let trustedKeys: TrustedKey[] | undefined;
  try {
    trustedKeys = keyEntries && loadTrustedKeys(keyEntries);
  } catch (err) {
    if (err instanceof KeyFileError) throw new UsageError(err.message);
    throw err;
  }
  let policy: NodePolicy;
  try {
    policy = validatePolicy({
      allowUsers: list(flags.allowUsers) ?? config.allowUsers,
      denyUsers: list(flags.denyUsers) ?? config.denyUsers,
      allowCommands: config.allowCommands,
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return { ...(trustedKeys ? { trustedKeys } : {}), policy };
}
