// Output and input helpers shared by the CLI's commands.
import { readFileSync } from 'node:fs';
import { UsageError, type GlobalOptions } from './args';
import { show } from './output';

/** The value in the chosen format (JSON, YAML), else the text. */
export function print(global: GlobalOptions, json: unknown, text: () => string): void {
  show(global.output ?? (global.json ? 'json' : 'table'), { data: json, text });
}

/** A file's text, or standard input for "-". */
export function readInput(path: string): string {
  try {
    return readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as Error).message}`);
  }
}
