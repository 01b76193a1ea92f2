// Real alert receivers on loopback for tests: a webhook endpoint and a small SMTP
// server. They record what arrived; the webhook one can hold requests unanswered
// (a slow receiver) to kill the sender mid-delivery.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  createServer as createTcpServer,
  type Server as TcpServer,
  type AddressInfo,
  type Socket,
} from 'node:net';
import { createServer as createTlsServer, TLSSocket } from 'node:tls';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';

export interface Received {
  key: string;
  /** When it arrived (ms). */
  at: number;
  body: Record<string, unknown>;
  /** The 2xx reached a live sender (the response was fully written). */
  accepted: boolean;
  /** The sender went away before an answer (held, then the sender died). */
  abandoned: boolean;
  headers: IncomingMessage['headers'];
}

export class WebhookReceiver {
  readonly requests: Received[] = [];
  private server: Server | undefined;
  /** Requests matching this are not answered until released or the sender goes away. */
  hold: ((r: Received) => boolean) | undefined;
  /** Answer with this status instead of 200 while set. */
  failWith: number | undefined;
  private held: ServerResponse[] = [];
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.onRequest(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (text += d));
    req.on('end', () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        body = { unparsable: text };
      }
      const r: Received = {
        key: String(req.headers['idempotency-key'] ?? ''),
        at: Date.now(),
        body,
        accepted: false,
        abandoned: false,
        headers: req.headers,
      };
      this.requests.push(r);
      res.on('finish', () => (r.accepted = !res.destroyed));
      res.on('close', () => {
        if (!res.writableFinished) r.abandoned = true;
      });
      if (this.hold?.(r)) {
        this.held.push(res);
        return;
      }
      res.statusCode = this.failWith ?? 200;
      res.end('ok');
    });
  }

  /** Drops the held requests unanswered (a receiver that gave up on them). */
  dropHeld(): void {
    for (const res of this.held.splice(0)) res.destroy();
  }

  /** Accepted deliveries per idempotency key. */
  acceptedByKey(): Map<string, number> {
    const m = new Map<string, number>();
    for (const r of this.requests) if (r.accepted) m.set(r.key, (m.get(r.key) ?? 0) + 1);
    return m;
  }

  async stop(): Promise<void> {
    for (const res of this.held) res.destroy();
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }
}

export interface Mail {
  from: string;
  to: string[];
  data: string;
  auth?: string;
  /** It came over TLS. */
  secure: boolean;
}

/** TLS material for the test servers: a self-signed certificate for localhost and 127.0.0.1. */
const TLS_DIR = join(__dirname, '..', '..', '..', 'test', 'harness', 'tls');
export const TEST_CA_FILE = join(TLS_DIR, 'cert.pem');

/** Just enough SMTP to receive what agent/alert/smtp.ts sends: plain, STARTTLS or TLS from the start. */
export class SmtpReceiver {
  readonly mails: Mail[] = [];
  /** Every AUTH line received, decoded, mail or no mail (a login sent in clear shows here). */
  readonly auths: { auth: string; secure: boolean }[] = [];
  private server: TcpServer | undefined;
  port = 0;

  constructor(private readonly mode: 'plain' | 'starttls' | 'implicit' = 'plain') {}

  private tlsOptions() {
    return { key: readFileSync(join(TLS_DIR, 'key.pem')), cert: readFileSync(TEST_CA_FILE) };
  }

  private session(sock: Duplex, greet: boolean, secure: boolean): void {
    let buf = '';
    let mail: Partial<Mail> = { to: [] };
    let inData = false;
    let auth: string | undefined;
    if (greet) sock.write('220 test ESMTP\r\n');
    const onData = (d: Buffer) => {
      buf += d.toString('utf8');
      for (;;) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) return;
          mail.data = buf.slice(0, end);
          buf = buf.slice(end + 5);
          inData = false;
          this.mails.push({ ...(mail as Mail), auth, secure });
          mail = { to: [] };
          sock.write('250 queued\r\n');
          continue;
        }
        const i = buf.indexOf('\r\n');
        if (i < 0) return;
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const verb = line.split(' ')[0].toUpperCase();
        if (verb === 'EHLO')
          sock.write(
            this.mode === 'starttls' && !secure
              ? '250-test\r\n250 STARTTLS\r\n'
              : '250-test\r\n250 AUTH PLAIN\r\n',
          );
        else if (verb === 'STARTTLS') {
          sock.write('220 go ahead\r\n');
          sock.off('data', onData);
          const tlsSock = new TLSSocket(sock as Socket, { isServer: true, ...this.tlsOptions() });
          tlsSock.on('error', () => undefined);
          this.session(tlsSock, false, true);
          return;
        } else if (verb === 'AUTH') {
          auth = Buffer.from(line.split(' ')[2] ?? '', 'base64').toString();
          this.auths.push({ auth, secure });
          sock.write('235 ok\r\n');
        } else if (verb === 'MAIL') {
          mail.from = /<(.*)>/.exec(line)?.[1];
          sock.write('250 ok\r\n');
        } else if (verb === 'RCPT') {
          mail.to!.push(/<(.*)>/.exec(line)?.[1] ?? '');
          sock.write('250 ok\r\n');
        } else if (verb === 'DATA') {
          inData = true;
          sock.write('354 go\r\n');
        } else if (verb === 'QUIT') {
          sock.end('221 bye\r\n');
        } else sock.write('502 no\r\n');
      }
    };
    sock.on('data', onData);
    sock.on('error', () => undefined);
  }

  async start(): Promise<void> {
    this.server =
      this.mode === 'implicit'
        ? createTlsServer(this.tlsOptions(), (sock) => this.session(sock, true, true))
        : createTcpServer((sock) => this.session(sock, true, false));
    this.server.on('tlsClientError', () => undefined);
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    await new Promise((r) => this.server?.close(r));
  }
}
