// The console's UI: reaches data only through the contract's client.
import '@xterm/xterm/css/xterm.css';
import './styles.css';
import { createRoot } from 'react-dom/client';
import { createClient } from './client';
import { Providers } from './state';
import { App } from './App';

const client = createClient();
createRoot(document.getElementById('root')!).render(
  <Providers client={client}>
    <App />
  </Providers>,
);
