// The alerting config's fields (`peppercorn alerts config apply -f FILE`): the source of
// schemas/alerting.schema.json and `peppercorn explain alerting.*`. parseAlertingYaml
// (core/alerting.ts) validates, with the cross-field rules (channel names that must exist).
import type { Shape } from './shape';
import { ALERT_RULES_SHAPE } from './job-shape';
import { duration, text } from './common';

const channelNames: Shape = { type: 'list', of: { type: 'string' }, doc: 'Channel names of this config.' };
const offOr = (doc: string, example: string): Shape => ({
  type: 'anyOf',
  what: 'a duration, or off',
  options: [
    duration(doc, [example]),
    { type: 'string', enum: ['off'] },
    { type: 'boolean', doc: 'false: off' },
  ],
  doc,
});

export const ALERTING_SHAPE: Shape = {
  type: 'object',
  doc: "Peppercorn's alerting config: where alerts go, the rules every job gets, the cluster rules and delivery retries.",
  fields: {
    channels: {
      type: 'map',
      keyPattern: '^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$',
      doc: 'Named channels alerts are sent to.',
      values: {
        type: 'anyOf',
        what: 'a webhook, command or smtp channel',
        options: [
          {
            type: 'object',
            required: ['type', 'url'],
            doc: 'An HTTP POST of the alert.',
            fields: {
              type: { type: 'string', enum: ['webhook'] },
              url: text('http:// or https:// URL.', {
                pattern: '^https?://',
                patternHint: 'must be an http:// or https:// URL',
              }),
              format: { type: 'string', enum: ['json', 'slack'], doc: 'json (default) or slack.' },
              headers: { type: 'map', values: { type: 'string' }, doc: 'Extra HTTP headers.' },
            },
          },
          {
            type: 'object',
            required: ['type', 'command'],
            doc: 'A shell command on the leader, the alert as JSON on stdin.',
            fields: {
              type: { type: 'string', enum: ['command'] },
              command: text('The shell command; it gets the alert as JSON on stdin.', { minLength: 1 }),
            },
          },
          {
            type: 'object',
            required: ['type', 'host', 'from', 'to'],
            doc: 'Mail through an SMTP server.',
            fields: {
              type: { type: 'string', enum: ['smtp'] },
              host: text('The SMTP server name.', { minLength: 1 }),
              port: { type: 'integer', minimum: 1, maximum: 65535, doc: 'Default 587 (465 with secure).' },
              secure: { type: 'boolean', doc: 'TLS from the first byte (port 465); otherwise STARTTLS.' },
              from: text('Sender address.'),
              to: { type: 'list', of: { type: 'string' }, minItems: 1, doc: 'Recipient addresses.' },
              user: text('SMTP user.'),
              passwordEnv: text("The environment variable of the leader's agent holding the SMTP password.", {
                pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
                patternHint: 'is not an environment variable name',
              }),
              caFile: text(
                'A CA certificate (PEM) on the agents, for a server whose certificate is not public.',
                {
                  pattern: '^/',
                  patternHint: 'must be an absolute path',
                },
              ),
            },
          },
        ],
      },
    },
    defaults: { ...ALERT_RULES_SHAPE, doc: 'The alert rules of every job that has no `alerts:` of its own.' },
    cluster: {
      type: 'object',
      doc: 'Cluster rules, judged by the leader.',
      fields: {
        nodeDown: offOr('Alert when a node has been gone this long without leaving. Default 30s.', '30s'),
        noLeader: offOr('Alert when the cluster had no leader for at least this long. Default 30s.', '30s'),
        channels: channelNames,
      },
    },
    delivery: {
      type: 'object',
      doc: 'How notices are retried.',
      fields: {
        attempts: { type: 'integer', minimum: 1, maximum: 100, doc: 'Attempts per notice. Default 10.' },
        backoff: duration('Wait before the first retry; doubled each time. Default 5s.', ['5s']),
        timeout: duration('Each attempt gives up after this long. Default 10s.', ['10s']),
      },
    },
  },
};
