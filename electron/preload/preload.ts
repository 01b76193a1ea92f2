// Sandboxed preload: exposes a tiny function facade, never ipcRenderer itself.
// Bundled into one file (sandboxed preloads cannot require our modules).
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { BRIDGE_NAME, CHANNELS } from '../common/channels';

let nextId = 1;
const listeners = new Map<number, { onEvent: (e: unknown) => void; onEnd: (err?: string) => void }>();

ipcRenderer.on(CHANNELS.event, (_e: IpcRendererEvent, id: number, event: unknown) =>
  listeners.get(id)?.onEvent(event),
);
ipcRenderer.on(CHANNELS.end, (_e: IpcRendererEvent, id: number, error?: string) => {
  const l = listeners.get(id);
  listeners.delete(id);
  l?.onEnd(error);
});

contextBridge.exposeInMainWorld(BRIDGE_NAME, {
  call: (name: string, args: unknown[]) => ipcRenderer.invoke(CHANNELS.call, name, args),
  subscribe: (
    name: string,
    args: unknown[],
    onEvent: (e: unknown) => void,
    onEnd: (err?: string) => void,
  ) => {
    const id = nextId++;
    listeners.set(id, { onEvent, onEnd });
    ipcRenderer.send(CHANNELS.subscribe, id, name, args);
    return () => {
      if (!listeners.delete(id)) return;
      ipcRenderer.send(CHANNELS.unsubscribe, id);
    };
  },
});
