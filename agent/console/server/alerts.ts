// alerts.*: the alerts the overview lists.
import { listAlerts } from '../../api/alert-store';
import type { AlertCalls } from '../contract';
import type { Handlers, ServerContext } from './context';

export function alertHandlers(ctx: ServerContext): Handlers<AlertCalls> {
  return {
    // A corrupt alert is skipped here; the CLI's `peppercorn alerts` names its key.
    'alerts.list': (limit) =>
      listAlerts(
        ctx.need().cluster,
        { limit: Math.max(1, Math.min(500, Math.floor(limit))) },
        () => undefined,
      ),
  };
}
