// Whether this node is overloaded: its event loop lags (perf_hooks' monitorEventLoopDelay)
// or its launches are late against their scheduled times. An overloaded node still holds
// its lease (the keepalives have a thread of their own) and launches late rather than
// skipping; this is how it says so: a gauge, and a `node-overloaded` alert once the
// overload has lasted `alertAfterMs` (alert/overload.ts), resolved when it has passed.
//
// Judged once a second from the second's worst event-loop delay and the 90th percentile
// of its launches' delays. The overload starts when a sample crosses a threshold (dated
// back by the lag it saw: a loop blocked for 7 s was overloaded 7 s ago) and ends after
// CALM_MS of samples under both thresholds, so one quiet second does not end it.
import { EventEmitter } from 'node:events';
import { monitorEventLoopDelay, type ELDHistogram } from 'node:perf_hooks';

export interface OverloadOptions {
  /** The event loop this late (worst delay in a second) is overloaded. */
  lagMs: number;
  /** Launches this late (90th percentile over a second) are overloaded. */
  lateMs: number;
  /** Overloaded this long before the alert is raised. */
  alertAfterMs: number;
}

/**
 * Half a second of lag already delays every launch due in it, and is a fifth of the fence
 * at the default 5 s lease; a second late is what an operator notices in the run history.
 * The alert waits 10 s, like etcd-unwritable: a burst at the top of the minute is not an overload.
 */
export const DEFAULT_OVERLOAD: OverloadOptions = { lagMs: 500, lateMs: 1000, alertAfterMs: 10_000 };

/** Samples under both thresholds this long end an overload. */
export const CALM_MS = 5000;
const SAMPLE_MS = 1000;
/** Timer resolution of the event-loop delay histogram; an idle loop records about this much. */
const RESOLUTION_MS = 20;

export interface OverloadSample {
  at: number;
  /** Worst event-loop delay over the sample (ms beyond the histogram's resolution). */
  lagMs: number;
  /** 90th percentile of the sample's launch delays (0 without launches). */
  lateMs: number;
}

export interface OverloadState {
  /** When the current overload began; absent when the node is not overloaded. */
  since?: number;
  /** When the samples went back under the thresholds, during an overload. */
  calmSince?: number;
  /** The sample that was worst during the current overload (for the alert's words). */
  worst?: OverloadSample;
}

/** The next state after a sample; pure. */
export function judgeOverload(state: OverloadState, s: OverloadSample, opts: OverloadOptions): OverloadState {
  const hot = s.lagMs >= opts.lagMs || s.lateMs >= opts.lateMs;
  if (hot) {
    const worse =
      !state.worst || Math.max(s.lagMs, s.lateMs) > Math.max(state.worst.lagMs, state.worst.lateMs);
    return {
      since: state.since ?? s.at - Math.max(s.lagMs, s.lateMs),
      worst: worse ? s : state.worst,
    };
  }
  if (state.since === undefined) return {};
  const calmSince = state.calmSince ?? s.at;
  return s.at - calmSince >= CALM_MS ? {} : { ...state, calmSince };
}

/** Whether the overload has lasted long enough for its alert; pure. */
export function overloadAlertDue(state: OverloadState, now: number, opts: OverloadOptions): boolean {
  return state.since !== undefined && now - state.since >= opts.alertAfterMs;
}

/** The p-th percentile of unsorted values (0 for none). */
function percentile(values: number[], p: number): number {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/**
 * Samples the event loop and the launches once a second. Events: 'overloaded' (state) when
 * an overload begins, 'alert' (state) once it has lasted alertAfterMs, 'recovered' (state,
 * now) when it ends. Feed it launches with `launched(delayMs)`.
 */
export class OverloadMonitor extends EventEmitter {
  state: OverloadState = {};
  /** The last sample, for the metrics. */
  last: OverloadSample = { at: 0, lagMs: 0, lateMs: 0 };
  private histogram: ELDHistogram | undefined;
  private timer: NodeJS.Timeout | undefined;
  private delays: number[] = [];
  private alerted = false;

  constructor(readonly opts: OverloadOptions = DEFAULT_OVERLOAD) {
    super();
  }

  get overloaded(): boolean {
    return this.state.since !== undefined;
  }

  launched(delayMs: number): void {
    if (Number.isFinite(delayMs)) this.delays.push(Math.max(0, delayMs));
  }

  start(): void {
    if (this.timer) return;
    this.histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    this.histogram.enable();
    this.timer = setInterval(() => this.sample(Date.now()), SAMPLE_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.histogram?.disable();
  }

  /** One sample: what the histogram and the launches saw since the previous one. */
  sample(now: number): void {
    const h = this.histogram;
    const lagMs = h && h.count > 0 ? Math.max(0, h.max / 1e6 - RESOLUTION_MS) : 0;
    h?.reset();
    this.last = { at: now, lagMs, lateMs: percentile(this.delays, 90) };
    this.delays = [];
    const before = this.state;
    this.state = judgeOverload(before, this.last, this.opts);
    if (before.since === undefined && this.state.since !== undefined) this.emit('overloaded', this.state);
    if (!this.alerted && overloadAlertDue(this.state, now, this.opts)) {
      this.alerted = true;
      this.emit('alert', this.state);
    }
    if (before.since !== undefined && this.state.since === undefined) {
      this.alerted = false;
      this.emit('recovered', before, now);
    }
  }
}
