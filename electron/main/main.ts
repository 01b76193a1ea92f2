// The desktop app's main process: one hardened window, the contract over IPC,
// saved clusters with passwords encrypted by safeStorage. Bundled by scripts/build-renderer.js.
import { join, resolve } from 'node:path';
import {
  app,
  BrowserWindow,
  ipcMain,
  Menu,
  safeStorage,
  session,
  shell,
  type IpcMainEvent,
  type IpcMainInvokeEvent,
  type WebContents,
} from 'electron';
import { ConnectionStore, type SecretCodec } from '../../agent/console/server/connection-store';
import { ConsoleServices } from '../../agent/console/server/services';
import { CHANNELS } from '../common/channels';
import {
  allowNavigation,
  DESKTOP_CSP,
  guardCall,
  guardStream,
  rendererUrl,
  windowOptions,
  type SenderInfo,
} from './security';

// Bundled to dist/electron/main.js, next to preload.js; the renderer is dist/renderer.
const RENDERER_DIR = resolve(__dirname, '..', 'renderer');
const TRUSTED_URL = rendererUrl(RENDERER_DIR);

let win: BrowserWindow | null = null;
let services: ConsoleServices | null = null;
const subscriptions = new Map<string, () => void>();

const codec: SecretCodec = {
  available: () => safeStorage.isEncryptionAvailable(),
  // Linux only: 'basic_text' means no keyring was found (see storagePolicy).
  backend: process.platform === 'linux' ? () => safeStorage.getSelectedStorageBackend() : undefined,
  encrypt: (plain) => safeStorage.encryptString(plain).toString('base64'),
  decrypt: (stored) => safeStorage.decryptString(Buffer.from(stored, 'base64')),
};

function senderOf(event: IpcMainEvent | IpcMainInvokeEvent): SenderInfo {
  const frame = event.senderFrame;
  return {
    frameUrl: frame?.url,
    isMainFrame: !!frame && frame === event.sender.mainFrame,
    webContentsId: event.sender.id,
  };
}

function windowId(): number | null {
  return win && !win.isDestroyed() ? win.webContents.id : null;
}

function wireIpc(svc: ConsoleServices): void {
  ipcMain.handle(CHANNELS.call, async (event, name: unknown, args: unknown) => {
    const guard = guardCall(senderOf(event), TRUSTED_URL, windowId(), name, args);
    if (!guard.ok) throw new Error(guard.error);
    return svc.call(name, args);
  });
  ipcMain.on(CHANNELS.subscribe, (event, id: unknown, name: unknown, args: unknown) => {
    const guard = guardStream(senderOf(event), TRUSTED_URL, windowId(), id, name, args);
    const sender: WebContents = event.sender;
    if (!guard.ok) {
      if (typeof id === 'number') sender.send(CHANNELS.end, id, guard.error);
      return;
    }
    const key = `${sender.id}:${id as number}`;
    subscriptions.get(key)?.();
    const unsub = svc.subscribe(
      name,
      args,
      (ev) => !sender.isDestroyed() && sender.send(CHANNELS.event, id, ev),
      (error) => {
        subscriptions.delete(key);
        if (!sender.isDestroyed()) sender.send(CHANNELS.end, id, error);
      },
    );
    subscriptions.set(key, unsub);
  });
  ipcMain.on(CHANNELS.unsubscribe, (event, id: unknown) => {
    if (typeof id !== 'number') return;
    const key = `${event.sender.id}:${id}`;
    subscriptions.get(key)?.();
    subscriptions.delete(key);
  });
}

function createWindow(): void {
  win = new BrowserWindow(windowOptions(join(__dirname, 'preload.js')));
  const contents = win.webContents;
  contents.on('will-navigate', (e, url) => {
    if (!allowNavigation(url, TRUSTED_URL)) e.preventDefault();
  });
  contents.on('will-redirect', (e) => e.preventDefault());
  contents.on('will-attach-webview', (e) => e.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    // Links to documentation open in the user's browser; nothing opens inside the app.
    if (/^https:\/\//.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  contents.on('destroyed', () => {
    for (const [key, unsub] of subscriptions) {
      if (key.startsWith(`${contents.id}:`)) {
        unsub();
        subscriptions.delete(key);
      }
    }
  });
  win.once('ready-to-show', () => win?.show());
  win.on('closed', () => (win = null));
  void win.loadURL(TRUSTED_URL);
}

function main(): void {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  app.on('second-instance', () => {
    if (!win) return;
    if (win.isMinimized()) win.restore();
    win.focus();
  });
  app.enableSandbox();
  app.on('web-contents-created', (_e, contents) => {
    contents.on('will-attach-webview', (ev) => ev.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
  void app.whenReady().then(() => {
    const ses = session.defaultSession;
    ses.setPermissionRequestHandler((_wc, _perm, cb) => cb(false));
    ses.setPermissionCheckHandler(() => false);
    ses.webRequest.onHeadersReceived((details, cb) =>
      cb({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [DESKTOP_CSP] } }),
    );
    const connections = new ConnectionStore({ file: join(app.getPath('userData'), 'clusters.json'), codec });
    if (connections.list().profiles.length === 0 && process.env.PEPPERCORN_ETCD) {
      connections.save({
        name: 'from PEPPERCORN_ETCD',
        endpoints: process.env.PEPPERCORN_ETCD.split(','),
        prefix: process.env.PEPPERCORN_PREFIX ?? '/peppercorn/',
      });
    }
    services = new ConsoleServices(connections);
    services.start();
    wireIpc(services);
    Menu.setApplicationMenu(
      Menu.buildFromTemplate([
        { role: process.platform === 'darwin' ? 'appMenu' : 'fileMenu' },
        { role: 'editMenu' },
        { role: 'viewMenu' },
        { role: 'windowMenu' },
      ]),
    );
    createWindow();
    app.on('activate', () => {
      if (!win) createWindow();
    });
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('before-quit', () => services?.close());
}

main();
