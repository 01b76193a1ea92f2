// logs.follow: a run's output as frames, from etcd or from the node that ran it.
import type { Cluster } from '../../core/etcd';
import { readRunOutput } from '../../api/run-output';
import type { StreamEvent } from '../contract';
import { createBatcher } from './batcher';

/**
 * A run's whole output from byte `from` on (0: all of it), from etcd or from the node that ran it
 * (agent/api/run-output.ts decides), followed live while the run runs. Frames hold whole reads,
 * and each says the byte to resume at, so a reader that reconnects resumes exactly there.
 * Returns the stream's unsubscribe.
 */
export function followLogs(
  cluster: Cluster,
  runId: string,
  from: number,
  emit: (e: StreamEvent<'logs.follow'>) => void,
  end: (error?: string) => void,
  readable: (err: unknown) => string,
): () => void {
  const abort = new AbortController();
  let bytes = 0;
  const notes: string[] = [];
  const batcher = createBatcher((frame, next) => emit({ kind: 'data', b64: frame.toString('base64'), next }));
  readRunOutput(cluster, runId, {
    follow: true,
    from,
    signal: abort.signal,
    onStart: (at) => emit({ kind: 'start', runId, from: at }),
    onData: (data, next) => {
      bytes += data.length;
      batcher.push(data, next);
    },
    onNote: (note) => notes.push(note),
  })
    .then(({ run, source }) => {
      if (abort.signal.aborted) return;
      batcher.flush();
      let note = notes.join('; ') || undefined;
      if (!run) note = 'no such run (it may have been pruned from the history)';
      else if (!note && bytes === 0 && from === 0) note = run.reason ?? 'this run produced no output';
      emit({
        kind: 'end',
        status: run?.status ?? null,
        note,
        source: source === 'none' ? undefined : source,
      });
      end();
    })
    .catch((err) => {
      if (!abort.signal.aborted) end(readable(err));
    })
    .finally(() => batcher.close());
  return () => {
    abort.abort();
    batcher.close();
  };
}
