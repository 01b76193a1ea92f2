// Turning spawn failures into messages that say what is wrong and what to do about it.
import { stat } from 'node:fs/promises';

export async function describeSpawnError(
  err: unknown,
  workdir: string | undefined,
  user: string | undefined,
): Promise<string> {
  const e = err as NodeJS.ErrnoException;
  const code = e?.code;
  if (workdir && (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES')) {
    // Node reports a bad cwd as "spawn /bin/sh ENOENT"; look at the directory to tell the cases apart.
    const wd = await stat(workdir).then(
      (s) => (s.isDirectory() ? 'ok' : 'notdir'),
      (se: NodeJS.ErrnoException) => (se.code === 'ENOENT' || se.code === 'ENOTDIR' ? 'missing' : 'ok'),
    );
    if (wd === 'missing')
      return `working directory ${workdir} does not exist; create it or fix the job's workdir`;
    if (wd === 'notdir') return `working directory ${workdir} is not a directory; fix the job's workdir`;
  }
  switch (code) {
    case 'ENOENT':
      return 'cannot start /bin/sh: not found on this node';
    case 'EACCES':
      return `cannot start /bin/sh${workdir ? ` in ${workdir}` : ''}: permission denied`;
    case 'EPERM':
      return `not permitted to start the command${user ? ` as user ${user}` : ''}: ${e.message}`;
    case 'EAGAIN':
      return 'cannot start the command: process limit reached on this node (EAGAIN); retry later or raise the limit';
    case 'EMFILE':
    case 'ENFILE':
      return 'cannot start the command: the agent has too many open files; raise its file descriptor limit';
    default:
      return `cannot start the command: ${e?.message ?? String(err)}`;
  }
}
