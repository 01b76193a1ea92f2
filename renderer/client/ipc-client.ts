// The contract over Electron IPC, through the preload's facade (window.peppercorn).
import type { ConsoleClient } from '../../agent/console/contract';

export interface Bridge {
  call(name: string, args: unknown[]): Promise<unknown>;
  subscribe(
    name: string,
    args: unknown[],
    onEvent: (e: unknown) => void,
    onEnd: (err?: string) => void,
  ): () => void;
}

export function ipcClient(bridge: Bridge): ConsoleClient {
  return {
    call: (name, ...args) =>
      bridge.call(name, args).catch((err: Error) => {
        // Electron prefixes handler errors with "Error invoking remote method ...: Error: ".
        throw new Error(err.message.replace(/^Error invoking remote method '[^']+': (Error: )?/, ''));
      }) as never,
    // IPC does not drop, so a stream never needs its resume arguments here.
    subscribe: (name, args, onEvent, onEnd) =>
      bridge.subscribe(name, args, onEvent as (e: unknown) => void, (err) => onEnd?.(err)),
    onTransport(listener) {
      listener(true);
      return () => undefined;
    },
  };
}
