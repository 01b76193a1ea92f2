// An agent that meets a record in a newer format than it understands (a newer agent wrote it
// during a rolling upgrade) leaves it alone (records.ts refuses to decode it) and says so:
// a warning in its log for each such key, and one alert per node and format, raised like a
// cluster alert (the cluster channels). Resolve it by hand once the node is upgraded.
import type { Cluster } from '../core/etcd';
import { keys } from '../core/keys';
import { encode, onNewerFormat, type AlertRecord, type NewerFormatError } from '../core/records';
import { channelsFor, newAlert, type AlertingConfig } from '../core/alerting';
import { VERSION } from '../version';

export function newerFormatAlert(
  node: string,
  err: NewerFormatError,
  config: AlertingConfig,
  now: number,
): AlertRecord {
  return newAlert(
    {
      id: `newer-format.${node}.v${err.format}`,
      rule: 'newer-format',
      node,
      summary:
        `${node} (peppercorn ${VERSION}) met records in format v${err.format}, newer than it reads ` +
        `(first at ${err.key}); it leaves them alone: upgrade this node`,
    },
    channelsFor(config, config.cluster?.channels),
    true,
    now,
  );
}

/** Reports newer formats met by this process; returns the unsubscribe function. */
export function reportNewerFormats(
  cluster: Cluster,
  node: string,
  config: () => AlertingConfig,
  log: (msg: string) => void,
): () => void {
  const keysSeen = new Set<string>();
  const raised = new Set<number>();
  return onNewerFormat((err) => {
    if (keysSeen.size < 1000 && !keysSeen.has(err.key)) {
      keysSeen.add(err.key);
      log(err.message);
    }
    if (raised.has(err.format)) return;
    raised.add(err.format);
    const alert = newerFormatAlert(node, err, config(), Date.now());
    const key = keys.alert(alert.id);
    cluster.ns
      .if(key, 'Create', '==', 0)
      .then(cluster.ns.put(key).value(encode(alert)))
      .commit()
      .catch((e: Error) => {
        raised.delete(err.format); // try again when it is met next
        log(`raising the newer-format alert failed: ${e.message}`);
      });
  });
}
