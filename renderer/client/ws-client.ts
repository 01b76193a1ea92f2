// The contract over the web console's WebSocket. Reconnects with backoff and
// re-opens every live subscription: with its `resume` arguments when it has them
// (logs.follow from the next chunk its reader lacks), else as it began (cluster.watch
// starts again with a full snapshot).
import type { ConsoleClient } from '../../agent/console/contract';

interface Sub {
  name: string;
  args: unknown[];
  resume?: () => unknown[];
  onEvent: (e: unknown) => void;
  onEnd?: (error?: string) => void;
}

export function wsClient(url: string): ConsoleClient {
  let ws: WebSocket | null = null;
  let up = false;
  let nextId = 1;
  let backoff = 250;
  const pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void; msg: string }
  >();
  const subs = new Map<number, Sub>();
  const transportListeners = new Set<(up: boolean) => void>();
  const queue: string[] = [];

  const setUp = (v: boolean) => {
    if (up === v) return;
    up = v;
    for (const l of transportListeners) l(v);
  };
  const send = (msg: object) => {
    const text = JSON.stringify(msg);
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(text);
    else queue.push(text);
  };

  const open = () => {
    const sock = new WebSocket(url);
    ws = sock;
    sock.onopen = () => {
      backoff = 250;
      setUp(true);
      for (const [id, s] of subs)
        sock.send(JSON.stringify({ t: 'sub', id, name: s.name, args: s.resume ? s.resume() : s.args }));
      for (const text of queue.splice(0)) sock.send(text);
    };
    sock.onmessage = (ev) => {
      const msg = JSON.parse(String(ev.data));
      if (msg.t === 'res') {
        const p = pending.get(msg.id);
        pending.delete(msg.id);
        if (p && msg.ok) p.resolve(msg.value);
        else if (p) p.reject(new Error(msg.error));
      } else if (msg.t === 'ev') subs.get(msg.id)?.onEvent(msg.event);
      else if (msg.t === 'end') {
        const s = subs.get(msg.id);
        subs.delete(msg.id);
        s?.onEnd?.(msg.error);
      }
    };
    sock.onclose = () => {
      if (ws !== sock) return;
      setUp(false);
      // Calls in flight are lost with the socket: fail them rather than hang.
      for (const [id, p] of pending) {
        pending.delete(id);
        p.reject(new Error(`the console server went away during ${p.msg}; try again`));
      }
      setTimeout(open, backoff);
      backoff = Math.min(backoff * 2, 5000);
    };
  };
  open();

  return {
    call(name, ...args) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject, msg: name });
        send({ t: 'call', id, name, args });
      });
    },
    subscribe(name, args, onEvent, onEnd, resume) {
      const id = nextId++;
      subs.set(id, { name, args, resume, onEvent: onEvent as (e: unknown) => void, onEnd });
      if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ t: 'sub', id, name, args }));
      return () => {
        if (subs.delete(id)) send({ t: 'unsub', id });
      };
    },
    onTransport(listener) {
      transportListeners.add(listener);
      listener(up);
      return () => transportListeners.delete(listener);
    },
  };
}
