// IPC channel names, shared by the main process and the preload (which is sandboxed: no imports but this).
export const CHANNELS = {
  call: 'peppercorn:call',
  subscribe: 'peppercorn:subscribe',
  unsubscribe: 'peppercorn:unsubscribe',
  event: 'peppercorn:event',
  end: 'peppercorn:end',
} as const;

/** The name the preload exposes its facade under: window.peppercorn. */
export const BRIDGE_NAME = 'peppercorn';
