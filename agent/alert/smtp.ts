// A small SMTP client: enough to hand one plain-text mail to a relay (RFC 5321):
// EHLO, STARTTLS when offered (or TLS from the start), AUTH PLAIN, MAIL, RCPT, DATA.
// The login goes only over TLS: a server (or a man in the middle stripping the offer) that
// does not offer STARTTLS gets no password unless the channel says `insecure: true`.
// No dependency for something this small and this rarely changed.
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, TLSSocket } from 'node:tls';
import { hostname } from 'node:os';
import type { Channel } from '../core/alerting';

/** An smtp channel of the alerting config, with its secrets read: the password, the CA's PEM. */
export type SmtpServer = Omit<Extract<Channel, { type: 'smtp' }>, 'type' | 'passwordEnv' | 'caFile'> & {
  password?: string;
  ca?: string;
};

export interface Mail {
  subject: string;
  body: string;
  /** Becomes the Message-ID: a repeat of the same notice is recognisable as one. */
  messageId: string;
}

/** Reads SMTP replies (possibly multi-line: "250-..." then "250 ...") from a socket. */
class Replies {
  private buf = '';
  private waiters: ((r: { code: number; text: string }) => void)[] = [];
  private lines: string[] = [];
  private failure: Error | undefined;
  private failWaiters: ((e: Error) => void)[] = [];

  attach(sock: Socket | TLSSocket): void {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      let i: number;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i).replace(/\r$/, '');
        this.buf = this.buf.slice(i + 1);
        this.lines.push(line);
        if (/^\d{3} /.test(line) || /^\d{3}$/.test(line)) {
          const text = this.lines.map((l) => l.slice(4)).join('\n');
          this.lines = [];
          this.waiters.shift()?.({ code: Number(line.slice(0, 3)), text });
          this.failWaiters.shift();
        }
      }
    });
  }

  fail(err: Error): void {
    this.failure = err;
    for (const f of this.failWaiters.splice(0)) f(err);
  }

  next(): Promise<{ code: number; text: string }> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiters.push(resolve);
      this.failWaiters.push(reject);
    });
  }
}

function dotStuff(text: string): string {
  return text
    .replace(/\r?\n/g, '\r\n')
    .split('\r\n')
    .map((l) => (l.startsWith('.') ? '.' + l : l))
    .join('\r\n');
}

export async function sendMail(server: SmtpServer, mail: Mail, timeoutMs: number): Promise<void> {
  // Certificates are verified (against `ca` when given); SNI only for names, never for IPs.
  const tlsOptions = {
    host: server.host,
    ...(isIP(server.host) ? {} : { servername: server.host }),
    ...(server.ca ? { ca: server.ca } : {}),
  };
  let sock: Socket | TLSSocket = server.secure
    ? tlsConnect({ ...tlsOptions, port: server.port })
    : netConnect({ host: server.host, port: server.port });
  let replies = new Replies();
  const where = `SMTP ${server.host}:${server.port}`;
  const onError = (err: Error) => replies.fail(new Error(`${where}: ${err.message}`));
  const wire = (s: Socket | TLSSocket) => {
    replies.attach(s);
    s.on('error', onError);
    s.on('close', () => replies.fail(new Error(`${where}: connection closed`)));
  };
  wire(sock);
  const timer = setTimeout(() => sock.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  const expect = async (ok: number[], what: string) => {
    const r = await replies.next();
    if (!ok.includes(r.code)) throw new Error(`${where} refused ${what}: ${r.code} ${r.text.split('\n')[0]}`);
    return r;
  };
  const cmd = async (line: string, ok: number[], what = line.split(' ')[0]) => {
    sock.write(line + '\r\n');
    return expect(ok, what);
  };
  try {
    await expect([220], 'the connection');
    const me = hostname() || 'localhost';
    let ehlo = await cmd(`EHLO ${me}`, [250]);
    if (!server.secure && /^STARTTLS/im.test(ehlo.text)) {
      await cmd('STARTTLS', [220]);
      const plain = sock;
      plain.removeAllListeners('data');
      plain.removeAllListeners('close');
      replies = new Replies();
      sock = tlsConnect({ ...tlsOptions, socket: plain as Socket });
      wire(sock);
      await new Promise<void>((resolve, reject) => {
        (sock as TLSSocket).once('secureConnect', () => resolve());
        sock.once('error', (err) => reject(new Error(`${where}: ${err.message}`)));
      });
      ehlo = await cmd(`EHLO ${me}`, [250]);
    }
    if (server.user !== undefined && !(sock instanceof TLSSocket) && !server.insecure)
      throw new Error(
        `${where} did not offer STARTTLS, so the login would go in clear; refused. ` +
          'Use secure: true (TLS from the start, port 465), fix the server, or set insecure: true on the channel to allow it',
      );
    if (server.user !== undefined) {
      const token = Buffer.from(`\0${server.user}\0${server.password ?? ''}`).toString('base64');
      await cmd(`AUTH PLAIN ${token}`, [235], 'the login');
    }
    await cmd(`MAIL FROM:<${server.from}>`, [250]);
    for (const to of server.to) await cmd(`RCPT TO:<${to}>`, [250, 251], `recipient ${to}`);
    await cmd('DATA', [354]);
    const headers = [
      `From: ${server.from}`,
      `To: ${server.to.join(', ')}`,
      `Subject: ${mail.subject.replace(/[\r\n]+/g, ' ')}`,
      `Date: ${new Date().toUTCString()}`,
      `Message-ID: <${mail.messageId.replace(/[^A-Za-z0-9._:-]/g, '_')}@peppercorn>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
    ];
    sock.write(`${headers.join('\r\n')}\r\n\r\n${dotStuff(mail.body)}\r\n.\r\n`);
    await expect([250], 'the message');
    sock.write('QUIT\r\n');
  } finally {
    clearTimeout(timer);
    sock.end();
  }
}
