// Resolving the Unix account a job runs as. Looked up once per name: a run must not pay for a process
// spawn (getent) each time, and accounts do not change under a running agent in practice.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';

export interface UserAccount {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

const cache = new Map<string, Promise<UserAccount>>();
const resolved = new Map<string, UserAccount>();

// A leading '-' would be read by getent as an option; anything else odd cannot be a real account anyway.
const VALID_NAME = /^[A-Za-z0-9_.][A-Za-z0-9_.-]*\$?$/;

export class UserLookupError extends Error {}

/** Cached result if this user was already resolved, so the hot path can stay synchronous. */
export function cachedUser(name: string): UserAccount | undefined {
  return resolved.get(name);
}

/** Resolves a user name (or numeric uid) to its account. Rejects with UserLookupError when unknown. */
export function lookupUser(name: string): Promise<UserAccount> {
  let p = cache.get(name);
  if (!p) {
    p = doLookup(name).then(
      (acct) => {
        resolved.set(name, acct);
        return acct;
      },
      (err: unknown) => {
        // Do not remember failures: the account may be created later.
        cache.delete(name);
        throw err;
      },
    );
    cache.set(name, p);
  }
  return p;
}

async function doLookup(name: string): Promise<UserAccount> {
  if (!VALID_NAME.test(name)) throw new UserLookupError(`invalid user name ${JSON.stringify(name)}`);
  let line: string | undefined;
  try {
    line = await getent(name);
  } catch (err) {
    // No getent (minimal images): fall back to the local passwd file.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    line = await fromEtcPasswd(name);
  }
  const acct = line === undefined ? undefined : parsePasswdLine(line);
  if (!acct) {
    throw new UserLookupError(
      `unknown user ${JSON.stringify(name)}: no such account on this node; create it or fix the job's user`,
    );
  }
  return acct;
}

function getent(name: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    execFile('getent', ['passwd', name], { timeout: 10_000 }, (err, stdout) => {
      if (!err) return resolve(stdout.split('\n')[0]);
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return reject(err);
      // Exit status 2 means "not found"; treat any other failure the same, with the reason kept.
      if ((err as { code?: unknown }).code === 2) return resolve(undefined);
      reject(new UserLookupError(`cannot look up user ${JSON.stringify(name)}: ${err.message}`));
    });
  });
}

async function fromEtcPasswd(name: string): Promise<string | undefined> {
  const text = await readFile('/etc/passwd', 'utf8');
  const numeric = /^\d+$/.test(name);
  return text.split('\n').find((l) => {
    const f = l.split(':');
    return numeric ? f[2] === name : f[0] === name;
  });
}

export function parsePasswdLine(line: string): UserAccount | undefined {
  const f = line.trim().split(':');
  if (f.length < 7) return undefined;
  const uid = Number(f[2]);
  const gid = Number(f[3]);
  if (!f[0] || !Number.isInteger(uid) || !Number.isInteger(gid) || f[2] === '' || f[3] === '')
    return undefined;
  return { name: f[0], uid, gid, home: f[5], shell: f[6] };
}

let self: { uid: number; name: string; home: string; shell: string } | undefined;

/** The agent's own identity (uid -1 and name '' where the platform has none). */
export function agentIdentity(): { uid: number; name: string; home: string; shell: string } {
  if (!self) {
    const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
    let info = { username: '', homedir: '', shell: '' as string | null };
    try {
      info = userInfo();
    } catch {
      // No passwd entry for our uid (containers); comparisons by name then simply fail.
    }
    self = { uid, name: info.username, home: info.homedir, shell: info.shell ?? '' };
  }
  return self;
}
