// Picks the transport: the desktop preload's bridge if present, else the web console's WebSocket.
import type { ConsoleClient } from '../../agent/console/contract';
import { ipcClient, type Bridge } from './ipc-client';
import { wsClient } from './ws-client';

export function createClient(): ConsoleClient {
  const bridge = (window as unknown as { peppercorn?: Bridge }).peppercorn;
  if (bridge) return ipcClient(bridge);
  const params = new URLSearchParams(location.search);
  let token = params.get('token') ?? sessionStorage.getItem('peppercorn-token') ?? '';
  if (params.has('token')) {
    // Keep the token out of the address bar and history once read.
    sessionStorage.setItem('peppercorn-token', token);
    history.replaceState(null, '', location.pathname + location.hash);
  }
  token = encodeURIComponent(token);
  return wsClient(`ws://${location.host}/ws?token=${token}`);
}
