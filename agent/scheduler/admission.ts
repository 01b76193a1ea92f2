// The node's last word on a job it was given: it runs only specs signed by a key it trusts
// (when it has trustedKeys) and allowed by its policy (node-policy.ts). A refused spec is
// not scheduled at all, and the refusal is never silent: one `skipped` run record saying why
// and one `refused` alert, in one transaction, once per spec revision and node (the alert id
// is derived from both, so a restart or a second look does not raise it again).
//
// The refusal alert goes to the cluster channels, not to the job's own: a spec nobody
// trusts must not be the one choosing whether its refusal is heard.
import type { Cluster } from '../core/etcd';
import { keys, formatRunId, type RunRef } from '../core/keys';
import type { RunRecord } from '../core/records';
import { channelsFor, newAlert } from '../core/alerting';
import { verifyJob, type StoredJob, type TrustedKey } from '../core/signing';
import { isRootName, policyRefusal, type PublishedPolicy } from '../core/node-policy';
import { cachedUser } from '../runner/users';
import type { AlertingView } from '../alert/config-view';
import type { Membership } from '../node/membership';

export interface AdmissionRules {
  /** Signatures required from one of these keys; undefined: unsigned specs run (as before). */
  trustedKeys?: TrustedKey[];
  policy?: PublishedPolicy;
}

/** Why this node must not run the stored job, or null. Pure but for the node's user cache. */
export function admissionRefusal(value: StoredJob, rules: AdmissionRules): string | null {
  if (rules.trustedKeys) {
    const verdict = verifyJob(value, rules.trustedKeys);
    if (!verdict.ok) return verdict.reason;
  }
  // Another name for uid 0 is root too, when this node has already resolved it.
  const isRoot = (u: string) => isRootName(u) || cachedUser(u)?.uid === 0;
  const refusal = policyRefusal(rules.policy, { user: value.user, command: value.command }, isRoot);
  return refusal && `refused by this node's policy: ${refusal}`;
}

export function refusalAlertId(job: string, node: string, specRev: number): string {
  return `refused.${job}.${node}.${specRev}`;
}

export class Admission {
  /** `job@specRev` refusals already recorded (or being recorded) by this process. */
  private recorded = new Set<string>();

  constructor(
    private readonly cluster: Cluster,
    private readonly membership: Membership,
    readonly rules: AdmissionRules,
    private readonly alerting: AlertingView,
    private readonly log: (msg: string) => void,
  ) {
    if (rules.trustedKeys)
      log(
        `runs only specs signed by key ${rules.trustedKeys.map((k) => `${k.id} (${k.source})`).join(', ')}`,
      );
    if (rules.policy) log(`node policy: ${JSON.stringify(rules.policy)}`);
  }

  /**
   * True when this node must not run this revision of the job; the refusal is recorded once,
   * by the owner (`record`): a standby refuses silently, or it would be told twice.
   */
  refuses(value: StoredJob, specRev: number, record = true): boolean {
    const reason = admissionRefusal(value, this.rules);
    if (!reason) return false;
    if (!record) return true;
    const mark = `${value.name}@${specRev}`;
    if (!this.recorded.has(mark)) {
      this.recorded.add(mark);
      this.log(`job ${value.name}: not running it: ${reason}`);
      void this.record(value.name, specRev, reason).catch((err) => {
        this.recorded.delete(mark); // tried again at the next look
        this.log(`recording the refusal of ${value.name}: ${(err as Error).message}`);
      });
    }
    return true;
  }

  private async record(job: string, specRev: number, reason: string): Promise<void> {
    const { ns } = this.cluster;
    const me = this.membership;
    let now = Date.now();
    if (now % 1000 === 0) now += 1; // whole seconds belong to schedules
    const ref: RunRef = { job, scheduledAt: now, attempt: 1 };
    const run: RunRecord = {
      id: formatRunId(ref),
      job,
      node: me.id,
      epoch: me.epoch,
      attempt: 1,
      cause: 'schedule',
      scheduledAt: now,
      claimedAt: now,
      endedAt: now,
      until: now,
      status: 'skipped',
      reason: `refused: ${reason}`,
    };
    const config = this.alerting.current;
    const alert = newAlert(
      {
        id: refusalAlertId(job, me.id, specRev),
        rule: 'refused',
        job,
        node: me.id,
        run: run.id,
        summary: `${job}: node ${me.id} refuses to run it — ${reason}`,
      },
      channelsFor(config, config.cluster.channels),
      true,
      now,
    );
    const res = await ns
      .if(keys.alert(alert.id), 'Create', '==', 0)
      .and(keys.node(me.id), 'Create', '==', me.epoch)
      .and(keys.run(ref), 'Create', '==', 0)
      .then(
        ns.put(keys.run(ref)).value(JSON.stringify(run)),
        ns.put(keys.alert(alert.id)).value(JSON.stringify(alert)),
      )
      .commit();
    if (res.succeeded) this.log(`job ${job}: refusal recorded as run ${run.id} and alert ${alert.id}`);
  }
}
