// A saved cluster's password goes only to the endpoints it was saved with. A fake etcd (a real
// HTTP/2 listener, which is what the etcd client speaks) records every byte of every request: the
// control shows it does see the password when the endpoints are the saved ones.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Http2Server, type ServerHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { ConsoleServices } from '../../agent/console/server/services';
import { ConnectionStore, PasswordNotReused } from '../../agent/console/server/connection-store';

const PASSWORD = 'hunter2-saved-7c3d';

class FakeEtcd {
  received = Buffer.alloc(0);
  private server: Http2Server = createServer();
  url = '';
  private sessions = new Set<ServerHttp2Session>();
  async start(): Promise<void> {
    this.server.on('session', (s) => this.sessions.add(s));
    this.server.on('stream', (stream) => {
      stream.on('data', (d: Buffer) => (this.received = Buffer.concat([this.received, d])));
      stream.on('end', () => {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '16', 'grpc-message': 'no' }));
        stream.end();
      });
      stream.on('error', () => undefined);
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  sawPassword(): boolean {
    return this.received.includes(PASSWORD);
  }
  async stop(): Promise<void> {
    for (const s of this.sessions) s.destroy();
    await new Promise((r) => this.server.close(r));
  }
}

const saved = new FakeEtcd();
const other = new FakeEtcd();
before(async () => {
  await saved.start();
  await other.start();
});
after(async () => {
  await saved.stop();
  await other.stop();
});

test('connection.test / connection.save with new endpoints and no password do not send the saved one', async () => {
  const store = new ConnectionStore();
  const services = new ConsoleServices(store);
  try {
    const p = store.save({
      name: 'prod',
      endpoints: [saved.url],
      prefix: '/',
      user: 'ops',
      password: PASSWORD,
    });
    const edit = { id: p.id, name: 'prod', endpoints: [other.url], prefix: '/', user: 'ops' };

    const tested = (await services.call('connection.test', [edit])) as { ok: boolean; message: string };
    assert.equal(other.sawPassword(), false, 'the new endpoint never received the saved password');
    assert.equal(tested.ok, false);
    assert.match(tested.message, /only sent to the endpoints it was saved with .*enter the password again/);
    await assert.rejects(
      services.call('connection.save', [edit]),
      /only sent to the endpoints it was saved with/,
    );
    assert.throws(() => store.save(edit), PasswordNotReused);
    assert.equal(other.received.length, 0, 'nothing was sent to the new endpoint at all');
    assert.equal(store.connectOptions(p.id).endpoints[0], saved.url, 'the profile is unchanged');

    // A password typed again goes where the user said; an empty one connects without.
    const cleared = store.save({ ...edit, password: '' });
    assert.equal(cleared.hasPassword, false);

    // Control: the saved endpoints do get it, so the fake would have seen a leak.
    const p2 = store.save({
      name: 'prod2',
      endpoints: [saved.url],
      prefix: '/',
      user: 'ops',
      password: PASSWORD,
    });
    await services.call('connection.test', [
      { id: p2.id, name: 'prod2', endpoints: [saved.url], prefix: '/', user: 'ops' },
    ]);
    assert.equal(saved.sawPassword(), true, 'the fake etcd records what a client sends');
  } finally {
    services.close();
  }
});
