// The node's data directory is private: run output (which may hold anything a job prints), the
// lease record, the start lines. Directories 0700, files 0600, whatever the umask. Run-as users
// never need a path in it: their output goes through pipes and their start line is an
// inherited descriptor (runner/start-line.ts).
import { chmod, mkdir, stat } from 'node:fs/promises';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Creates the data directory (0700), or makes an existing one private. Returns a note for the
 * agent's log when it had to tighten one, undefined otherwise. Throws when the directory cannot
 * be made, naming it.
 */
export async function prepareDataDir(dir: string): Promise<string | undefined> {
  try {
    await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    const mode = (await stat(dir)).mode & 0o777;
    if ((mode & 0o077) === 0) return undefined;
    await chmod(dir, PRIVATE_DIR_MODE);
    return `data dir ${dir} was open to others (mode ${mode.toString(8)}); made it private (700)`;
  } catch (err) {
    throw new Error(
      `cannot prepare the data dir ${dir}: ${(err as Error).message}; fix its permissions or pick another with --data-dir`,
    );
  }
}
