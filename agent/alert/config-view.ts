// The alerting config as an agent sees it: decoded once per change of the `alerting`
// key. A corrupt value is reported once and the last good config stays in force (at
// start, the built-in one: alerts are still raised and listed, with no channel).
import { keys } from '../core/keys';
import type { PrefixMirror } from '../core/mirror';
import { EMPTY_CONFIG, decodeAlerting, type AlertingConfig } from '../core/alerting';

export class AlertingView {
  private rev = -1;
  private config: AlertingConfig = EMPTY_CONFIG;

  constructor(
    private readonly mirror: PrefixMirror,
    private readonly log: (msg: string) => void,
  ) {}

  get current(): AlertingConfig {
    const e = this.mirror.entries.get(keys.alerting);
    const rev = e?.modRevision ?? 0;
    if (rev === this.rev) return this.config;
    this.rev = rev;
    if (!e) {
      this.config = EMPTY_CONFIG;
      return this.config;
    }
    const res = decodeAlerting(e.value);
    if (res.ok) this.config = res.config;
    else
      this.log(
        `corrupt value at ${keys.alerting}: ${res.problem}; ` +
          'keeping the previous alerting config; fix it with peppercorn alerts config apply FILE',
      );
    return this.config;
  }
}
