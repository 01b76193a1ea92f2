// The web console: the built renderer as static files, and the contract over one
// WebSocket. Binds to loopback only; the WebSocket needs the random token printed
// with the URL (compared in constant time), the right Host (no DNS rebinding) and,
// when a browser sends one, our own Origin (no cross-site WebSocket hijacking).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ConsoleServices } from './services';
import { consoleCsp } from './csp';

// dist/agent/console/server/web-server.js: the built renderer is dist/renderer.
export const RENDERER_DIR = resolve(__dirname, '..', '..', '..', 'renderer');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Constant-time token check; hashing first makes the lengths equal. */
export function tokenMatches(expected: string, given: string | null | undefined): boolean {
  if (typeof given !== 'string' || given.length === 0 || given.length > 1024) return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}

export function contentSecurityPolicy(port: number): string {
  // The page reaches its services only through our own WebSocket.
  return consoleCsp(`'self' ws://127.0.0.1:${port} ws://localhost:${port}`);
}

/** Why an upgrade request is refused, or null to accept it. */
export function checkUpgrade(req: IncomingMessage, token: string, port: number): string | null {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (url.pathname !== '/ws') return 'not found';
  const hosts = [`127.0.0.1:${port}`, `localhost:${port}`];
  if (!hosts.includes(req.headers.host ?? '')) return 'bad host';
  const origin = req.headers.origin;
  if (origin !== undefined && !hosts.some((h) => origin === `http://${h}`)) return 'bad origin';
  if (!tokenMatches(token, url.searchParams.get('token'))) return 'bad token';
  return null;
}

export interface WebConsole {
  port: number;
  token: string;
  url: string;
  close(): Promise<void>;
}

export async function startWebConsole(
  services: ConsoleServices,
  opts: { port?: number; token?: string; rendererDir?: string } = {},
): Promise<WebConsole> {
  const token = opts.token ?? newToken();
  const root = opts.rendererDir ?? RENDERER_DIR;
  let port = 0;
  const server: Server = createServer((req, res) => {
    serveFile(req, res, root, port).catch(() => {
      // Whatever went wrong, the client gets an answer and the socket is not left open.
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error');
    });
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4 * 1024 * 1024 });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    let refused: string | null;
    try {
      refused = checkUpgrade(req, token, port);
    } catch {
      refused = 'bad request';
    }
    if (refused) {
      const status =
        refused === 'not found'
          ? '404 Not Found'
          : refused === 'bad request'
            ? '400 Bad Request'
            : '401 Unauthorized';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serveSocket(services, ws));
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolveListen());
  });
  const addr = server.address();
  port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    port,
    token,
    url: `http://127.0.0.1:${port}/?token=${token}`,
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** Static files of the renderer; a malformed path is a 400, never an exception. */
async function serveFile(
  req: IncomingMessage,
  res: ServerResponse,
  root: string,
  port: number,
): Promise<void> {
  const hosts = [`127.0.0.1:${port}`, `localhost:${port}`];
  if (!hosts.includes(req.headers.host ?? '') || (req.method !== 'GET' && req.method !== 'HEAD')) {
    res.writeHead(400).end();
    return;
  }
  let path: string;
  try {
    path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
  } catch {
    res.writeHead(400, { 'content-type': 'text/plain' }).end('bad request: malformed path');
    return;
  }
  const rel = normalize(path === '/' ? '/index.html' : path);
  const file = join(root, rel);
  if (!file.startsWith(root + sep) || file.includes('\0')) {
    res.writeHead(404).end();
    return;
  }
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    return;
  }
  res.writeHead(200, {
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'content-security-policy': contentSecurityPolicy(port),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

type ClientMessage =
  | { t: 'call'; id: number; name: string; args: unknown[] }
  | { t: 'sub'; id: number; name: string; args: unknown[] }
  | { t: 'unsub'; id: number };

/** One socket: calls answered by id, streams sent as events until `end` or `unsub`. */
export function serveSocket(services: ConsoleServices, ws: WebSocket): void {
  const subs = new Map<number, () => void>();
  const send = (msg: unknown) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
  };
  ws.on('message', (raw) => {
    let msg: ClientMessage;
    try {
      msg = JSON.parse(raw.toString());
    } catch {
      ws.close(1003, 'not JSON');
      return;
    }
    if (typeof msg !== 'object' || msg === null || typeof msg.id !== 'number') {
      ws.close(1003, 'bad message');
      return;
    }
    const id = msg.id;
    if (msg.t === 'call') {
      services.call(msg.name, msg.args).then(
        (value) => send({ t: 'res', id, ok: true, value }),
        (err: Error) => send({ t: 'res', id, ok: false, error: err.message }),
      );
    } else if (msg.t === 'sub') {
      if (subs.has(id)) return;
      let ended = false;
      const unsub = services.subscribe(
        msg.name,
        msg.args,
        (event) => send({ t: 'ev', id, event }),
        (error) => {
          ended = true;
          subs.delete(id);
          send({ t: 'end', id, error });
        },
      );
      if (!ended) subs.set(id, unsub);
    } else if (msg.t === 'unsub') {
      subs.get(id)?.();
      subs.delete(id);
    }
  });
  ws.on('error', () => undefined);
  ws.on('close', () => {
    for (const unsub of subs.values()) unsub();
    subs.clear();
  });
}
