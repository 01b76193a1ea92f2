// Saved clusters. Passwords go to the services and never come back (we get hasPassword).
import { useEffect, useState } from 'react';
import type { ConnectionInput, ConnectionList } from '../../agent/console/contract';
import { useClient, useCluster } from '../state';
import { Confirm } from './Confirm';

const BLANK: ConnectionInput = { name: '', endpoints: [], prefix: '/peppercorn/' };

export function ConnectionsView() {
  const client = useClient();
  const { snapshot } = useCluster();
  const [list, setList] = useState<ConnectionList | null>(null);
  const [form, setForm] = useState<ConnectionInput>(BLANK);
  const [endpoints, setEndpoints] = useState('');
  const [hasPassword, setHasPassword] = useState(false);
  const [test, setTest] = useState<{ ok: boolean; message: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  /** Saving a password with no OS keyring waits for the user's yes to clear text. */
  const [askClearText, setAskClearText] = useState(false);

  const reload = () => client.call('connection.list').then(setList, (e: Error) => setError(e.message));
  useEffect(() => {
    void reload();
  }, [client]);

  const input = (): ConnectionInput => ({
    ...form,
    endpoints: endpoints
      .split(/[,\s]+/)
      .map((s) => s.trim())
      .filter(Boolean),
  });
  const set = (k: keyof ConnectionInput) => (e: { target: { value: string } }) =>
    setForm({ ...form, [k]: e.target.value });

  const run = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const save = (storeInClearText: boolean) =>
    run(async () => {
      await client.call('connection.save', {
        ...cleaned(input()),
        ...(storeInClearText && { storeInClearText }),
      });
      setForm(BLANK);
      setEndpoints('');
      setHasPassword(false);
      await reload();
    });

  const status = snapshot?.connection;
  return (
    <div className="connections">
      <h1>Connections</h1>
      {status && (
        <div
          className={`banner ${status.state === 'connected' ? 'ok' : status.state === 'unreachable' ? 'error' : 'warn'}`}
        >
          {status.state === 'connected'
            ? `Connected to ${status.name}`
            : status.state === 'unreachable'
              ? status.error
              : 'Connecting…'}
        </div>
      )}
      <table className="grid" data-testid="profiles">
        <thead>
          <tr>
            <th>name</th>
            <th>endpoints</th>
            <th>prefix</th>
            <th>user</th>
            <th>TLS</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list?.profiles.map((p) => (
            <tr key={p.id}>
              <td>
                {p.name} {list.activeId === p.id && <span className="badge leader">in use</span>}
              </td>
              <td className="mono">{p.endpoints.join(', ')}</td>
              <td className="mono">{p.prefix}</td>
              <td>
                {p.user ?? '—'}{' '}
                {p.hasPassword && (
                  <span className={p.passwordInClearText ? 'warn-text' : 'muted'}>
                    {p.passwordInClearText ? '(password saved in clear text)' : '(password saved)'}
                  </span>
                )}
              </td>
              <td>
                {p.cacert ? 'yes' : 'no'}
                {p.signingKeyId && <span className="muted"> · signs with key {p.signingKeyId}</span>}
              </td>
              <td className="actions">
                <button
                  onClick={() =>
                    run(async () => void (await client.call('connection.use', p.id), await reload()))
                  }
                >
                  Use
                </button>
                <button
                  onClick={() => {
                    setForm({
                      id: p.id,
                      name: p.name,
                      endpoints: p.endpoints,
                      prefix: p.prefix,
                      user: p.user,
                      cacert: p.cacert,
                      cert: p.cert,
                      key: p.key,
                    });
                    setEndpoints(p.endpoints.join(', '));
                    setHasPassword(p.hasPassword);
                    setTest(null);
                  }}
                >
                  Edit
                </button>
                <button
                  className="danger"
                  onClick={() =>
                    run(async () => void (await client.call('connection.remove', p.id), await reload()))
                  }
                >
                  Remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {list?.clearTextWarning ? (
        <div className="banner warn" data-testid="storage-warning">
          {list.clearTextWarning}
        </div>
      ) : (
        list && <p className="muted">{list.storageNote}</p>
      )}
      <h2>{form.id ? `Edit ${form.name}` : 'Add a cluster'}</h2>
      <div className="form narrow">
        <label className="field">
          <span className="flabel">name</span>
          <input value={form.name} onChange={set('name')} data-testid="conn-name" />
        </label>
        <label className="field">
          <span className="flabel">etcd endpoints (comma-separated)</span>
          <input
            value={endpoints}
            onChange={(e) => setEndpoints(e.target.value)}
            placeholder="http://etcd1:2379, http://etcd2:2379"
            data-testid="conn-endpoints"
          />
        </label>
        <label className="field">
          <span className="flabel">prefix</span>
          <input value={form.prefix} onChange={set('prefix')} data-testid="conn-prefix" />
        </label>
        <label className="field">
          <span className="flabel">user</span>
          <input value={form.user ?? ''} onChange={set('user')} autoComplete="off" />
        </label>
        <label className="field">
          <span className="flabel">password</span>
          <input
            type="password"
            value={form.password ?? ''}
            onChange={set('password')}
            placeholder={hasPassword ? 'saved — leave empty to keep' : ''}
            autoComplete="off"
          />
        </label>
        <label className="field">
          <span className="flabel">CA certificate file</span>
          <input value={form.cacert ?? ''} onChange={set('cacert')} placeholder="/etc/etcd/ca.pem" />
        </label>
        <label className="field">
          <span className="flabel">client certificate file</span>
          <input value={form.cert ?? ''} onChange={set('cert')} />
        </label>
        <label className="field">
          <span className="flabel">client key file</span>
          <input value={form.key ?? ''} onChange={set('key')} />
        </label>
        <label className="field">
          <span className="flabel">signing key file (specs applied here are signed with it)</span>
          <input
            value={form.signingKeyFile ?? ''}
            onChange={set('signingKeyFile')}
            placeholder="~/.peppercorn/ops.key — made by peppercorn keys generate; kept like the password"
            data-testid="conn-signing-key"
          />
        </label>
        <div className="row">
          <button
            disabled={busy}
            onClick={() => run(async () => setTest(await client.call('connection.test', cleaned(input()))))}
            data-testid="conn-test"
          >
            Test connection
          </button>
          <button
            className="primary"
            disabled={busy}
            onClick={() =>
              list?.clearTextWarning && (form.password || form.signingKeyFile)
                ? setAskClearText(true)
                : save(false)
            }
            data-testid="conn-save"
          >
            Save
          </button>
          <button onClick={() => (setForm(BLANK), setEndpoints(''), setTest(null), setHasPassword(false))}>
            Clear
          </button>
        </div>
        {busy && <p className="muted">working…</p>}
        {test && (
          <div className={`banner ${test.ok ? 'ok' : 'error'}`} data-testid="conn-test-result">
            {test.message}
          </div>
        )}
        {error && <div className="banner error">{error}</div>}
      </div>
      {askClearText && (
        <Confirm
          text={`There is no OS keyring on this computer: the password or signing key for "${form.name || endpoints}" would be written in clear text to the console's settings file, readable by anything running as you. Store it anyway?`}
          yes="Store in clear text"
          onNo={() => setAskClearText(false)}
          onYes={() => {
            setAskClearText(false);
            void save(true);
          }}
        />
      )}
    </div>
  );
}

/** Drops empty optional fields; an empty password means "keep the saved one". */
function cleaned(c: ConnectionInput): ConnectionInput {
  const out: ConnectionInput = { name: c.name, endpoints: c.endpoints, prefix: c.prefix || '/peppercorn/' };
  if (c.id) out.id = c.id;
  for (const k of ['user', 'password', 'cacert', 'cert', 'key', 'signingKeyFile'] as const)
    if (c[k]) out[k] = c[k];
  return out;
}
