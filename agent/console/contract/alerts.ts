// The contract's alerts: what the overview lists.
import type { AlertRecord } from '../../core/records';
import type { ArgType } from './args';

/** An alert as stored: what raised it, open or resolved, and its notifications' delivery. */
export type AlertInfo = AlertRecord;

export interface AlertCalls {
  /** Open alerts first, then the most recent ones. */
  'alerts.list': (limit: number) => AlertInfo[];
}

export const alertCallArgs: { [K in keyof AlertCalls]: ArgType[] } = {
  'alerts.list': ['number'],
};
