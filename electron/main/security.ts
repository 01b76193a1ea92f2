// The desktop app's security settings and IPC guards, as plain data and functions
// (no 'electron' import) so unit tests check exactly what main.ts uses.
import { pathToFileURL } from 'node:url';
import { checkCall, checkStream } from '../../agent/console/contract';
import { consoleCsp } from '../../agent/console/server/csp';

/** BrowserWindow webPreferences: the renderer is a web page with no Node and no bridge but ours. */
export function secureWebPreferences(preloadPath: string) {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    spellcheck: false,
  } as const;
}

export function windowOptions(preloadPath: string) {
  return {
    width: 1280,
    height: 820,
    minWidth: 900,
    minHeight: 600,
    title: 'Peppercorn',
    show: false,
    backgroundColor: '#14161a',
    webPreferences: secureWebPreferences(preloadPath),
  };
}

/** The CSP of the desktop app: only our files; xterm.js needs inline styles. */
// The desktop app talks to its services over IPC only: no network for the page at all.
export const DESKTOP_CSP = consoleCsp("'none'");

/** The one page allowed to use the bridge: our index.html, loaded from disk, in the top frame. */
export function rendererUrl(rendererDir: string): string {
  return pathToFileURL(`${rendererDir}/index.html`).href;
}

export interface SenderInfo {
  /** URL of the frame that sent the message (event.senderFrame.url). */
  frameUrl: string | undefined;
  /** True when that frame is the window's main frame, not an iframe. */
  isMainFrame: boolean;
  /** webContents id of the sender, and of our window. */
  webContentsId: number;
}

export function isTrustedSender(
  sender: SenderInfo,
  trustedUrl: string,
  windowContentsId: number | null,
): boolean {
  if (windowContentsId === null || sender.webContentsId !== windowContentsId) return false;
  if (!sender.isMainFrame || !sender.frameUrl) return false;
  // Ignore the hash (client-side routes), nothing else.
  const url = sender.frameUrl.split('#')[0];
  return url === trustedUrl;
}

export type GuardResult = { ok: true } | { ok: false; error: string };

/** Every IPC message passes here before a service sees it. */
export function guardCall(
  sender: SenderInfo,
  trustedUrl: string,
  windowContentsId: number | null,
  name: unknown,
  args: unknown,
): GuardResult {
  if (!isTrustedSender(sender, trustedUrl, windowContentsId)) return { ok: false, error: 'untrusted sender' };
  const bad = checkCall(name, args);
  return bad ? { ok: false, error: bad } : { ok: true };
}

export function guardStream(
  sender: SenderInfo,
  trustedUrl: string,
  windowContentsId: number | null,
  subId: unknown,
  name: unknown,
  args: unknown,
): GuardResult {
  if (!isTrustedSender(sender, trustedUrl, windowContentsId)) return { ok: false, error: 'untrusted sender' };
  if (typeof subId !== 'number' || !Number.isSafeInteger(subId) || subId < 0)
    return { ok: false, error: 'subscription id must be a non-negative integer' };
  const bad = checkStream(name, args);
  return bad ? { ok: false, error: bad } : { ok: true };
}

/** Navigation is denied except to our own page (reloads with another route). */
export function allowNavigation(url: string, trustedUrl: string): boolean {
  return url.split('#')[0] === trustedUrl;
}
