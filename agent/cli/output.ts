// Where the CLI's output goes, and in which format (`-o json|yaml|wide|name`).
//
// Output is always complete: the process never exits before stdout has drained (Node
// truncates a pipe at 64 KiB when the process exits first), and a reader that closes
// early (`| head -1`) ends the command quietly instead of printing an EPIPE trace.
import { stringify } from 'yaml';
import { UsageError } from './usage-error';

export const OUTPUT_FORMATS = ['table', 'json', 'yaml', 'wide', 'name'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Parses `-o`; `--json` is kept as an alias of `-o json`. */
export function outputFormat(opts: { output?: string; json?: boolean }): OutputFormat {
  if (opts.json) {
    if (opts.output && opts.output !== 'json')
      throw new UsageError(`--json and -o ${opts.output} disagree; use one of them`);
    return 'json';
  }
  const o = opts.output ?? 'table';
  if (!(OUTPUT_FORMATS as readonly string[]).includes(o))
    throw new UsageError(`-o ${o} is not an output format; use ${OUTPUT_FORMATS.join(', ')}`);
  return o as OutputFormat;
}

/** What a command can show; each format picks its part. */
export interface Shown {
  /** The machine-readable value (JSON and YAML). */
  data: unknown;
  /** The readable text (default). */
  text: () => string;
  /** More columns (`-o wide`); the text when absent. */
  wide?: () => string;
  /** `kind/name` lines (`-o name`). */
  names?: () => string[];
}

export function render(format: OutputFormat, shown: Shown): string {
  switch (format) {
    case 'json':
      return JSON.stringify(shown.data, null, 2) + '\n';
    case 'yaml':
      return stringify(shown.data, { lineWidth: 0 });
    case 'name':
      if (!shown.names) throw new UsageError('-o name is for listings; use -o json or -o yaml here');
      return shown
        .names()
        .map((n) => n + '\n')
        .join('');
    case 'wide':
      return withNewline((shown.wide ?? shown.text)());
    default:
      return withNewline(shown.text());
  }
}

function withNewline(s: string): string {
  return s === '' || s.endsWith('\n') ? s : s + '\n';
}

export function show(format: OutputFormat, shown: Shown): void {
  out(render(format, shown));
}

let readerGone = false;

/** True once stdout's reader has closed: followers stop, nothing more is written. */
export function stdoutClosed(): boolean {
  return readerGone;
}

export function out(text: string | Uint8Array): void {
  if (!readerGone) process.stdout.write(text);
}

/**
 * Installs the stdout guard: EPIPE (the reader closed) ends the command quietly
 * with `onClosed`, any other stdout error is reported once.
 */
export function guardStdout(onClosed: () => void): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (readerGone) return;
    readerGone = true;
    if (err.code !== 'EPIPE') process.stderr.write(`peppercorn: cannot write output: ${err.message}\n`);
    onClosed();
  });
}

/** Resolves once everything written to stdout and stderr so far has been handed to the OS. */
export function drained(): Promise<void> {
  const flush = (s: NodeJS.WriteStream) =>
    new Promise<void>((resolve) => {
      if (s.destroyed || (s === process.stdout && readerGone)) return resolve();
      s.write('', () => resolve());
    });
  return Promise.all([flush(process.stdout), flush(process.stderr)]).then(() => undefined);
}
