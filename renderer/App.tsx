import { useCluster, useRoute } from './state';
import { Overview } from './views/Overview';
import { JobsView } from './views/Jobs';
import { JobDetailView } from './views/JobDetail';
import { EditorView } from './views/Editor';
import { LogsView } from './views/Logs';
import { ConnectionsView } from './views/Connections';
import { NodeDetailView } from './views/NodeDetail';

const NAV: [string, string][] = [
  ['overview', 'Overview'],
  ['jobs', 'Jobs'],
  ['new', 'New job'],
  ['connections', 'Connections'],
];

export function App() {
  const route = useRoute();
  const [screen, arg] = route;
  let body;
  if (screen === 'jobs' && arg) body = <JobDetailView name={arg} />;
  else if (screen === 'jobs') body = <JobsView />;
  else if (screen === 'new') body = <EditorView key="new" name={null} />;
  else if (screen === 'edit' && arg) body = <EditorView key={arg} name={arg} />;
  else if (screen === 'logs' && arg) body = <LogsView key={arg} runId={arg} />;
  else if (screen === 'nodes' && arg) body = <NodeDetailView key={arg} id={arg} />;
  else if (screen === 'connections') body = <ConnectionsView />;
  else body = <Overview />;
  return (
    <div className="app">
      <header className="topbar">
        <span className="brand">Peppercorn</span>
        <nav>
          {NAV.map(([id, label]) => (
            <a key={id} href={`#/${id}`} className={screen === id ? 'active' : ''} data-testid={`nav-${id}`}>
              {label}
            </a>
          ))}
        </nav>
        <ConnectionIndicator />
      </header>
      <main className="content">{body}</main>
    </div>
  );
}

/** Always visible: which cluster, and whether etcd (and the console server) can be reached. */
function ConnectionIndicator() {
  const { snapshot, transportUp } = useCluster();
  let state = 'connecting';
  let text = 'connecting…';
  let title = '';
  if (!transportUp) {
    state = 'unreachable';
    text = 'console server unreachable: reconnecting…';
  } else if (snapshot) {
    const c = snapshot.connection;
    state = c.state;
    const where = c.endpoints.length ? `${c.name} (${c.endpoints.join(', ')} ${c.prefix})` : 'no cluster';
    text =
      c.state === 'connected'
        ? `connected: ${where}`
        : c.state === 'unreachable'
          ? `etcd unreachable: ${where}`
          : `connecting: ${where}`;
    title = c.error ?? '';
  }
  return (
    <a
      href="#/connections"
      className={`conn conn-${state}`}
      data-testid="connection-status"
      data-state={state}
      title={title}
    >
      <span className="dot" />
      {text}
    </a>
  );
}
