// Opening the web console in the user's browser without putting its token on a command line.
// `xdg-open http://…?token=…` would show the token in /proc/<pid>/cmdline (and `ps`) to every local
// user for as long as the opener and the browser it starts run. As Jupyter does, the URL goes into a
// private redirect file instead (0600, in a 0700 directory of its own) and the browser is given the
// file's path; the page sends it on to the console. The file is removed when the console stops.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedirectFile {
  path: string;
  remove(): void;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The page: a meta refresh and a script (either is enough), and a link for a browser that does neither. */
export function redirectPage(url: string): string {
  const attr = escapeHtml(url);
  // In a script, "</" must not close the element: JSON with "<" escaped.
  const js = JSON.stringify(url).replace(/</g, '\\u003c');
  return (
    '<!DOCTYPE html>\n<html><head><meta charset="utf-8">' +
    `<meta http-equiv="refresh" content="0;url=${attr}">` +
    '<title>Peppercorn console</title></head>\n' +
    `<body><p>Opening the Peppercorn console… <a href="${attr}">Open it</a> if nothing happens.</p>` +
    `<script>window.location.replace(${js});</script></body></html>\n`
  );
}

/** Writes the redirect file, readable by its owner only. `base`: XDG_RUNTIME_DIR, else the temp dir. */
export function writeRedirectFile(url: string, base = process.env.XDG_RUNTIME_DIR || tmpdir()): RedirectFile {
  const dir = mkdtempSync(join(base, 'peppercorn-console-')); // 0700
  const path = join(dir, 'open.html');
  writeFileSync(path, redirectPage(url), { mode: 0o600, flag: 'wx' });
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The platform's opener, given a file path (no secret in its arguments). */
export function openPath(path: string): void {
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    const child = spawn(cmd, [path], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // No browser opener: the printed URL is enough.
  }
}
