// One notifier per channel kind.
import type { ChannelKind } from '../db/entities/notification-channel.js';
import { emailNotifier } from './email/email-notifier.js';
import type { Notifier } from './notifier.js';
import { snmpNotifier } from './snmp/snmp-notifier.js';
import { syslogNotifier } from './syslog/syslog-notifier.js';
import { webhookNotifier } from './webhook/webhook-notifier.js';

export const notifiers: Record<ChannelKind, Notifier<unknown, unknown>> = {
  email: emailNotifier as Notifier<unknown, unknown>,
  snmp: snmpNotifier as Notifier<unknown, unknown>,
  webhook: webhookNotifier as Notifier<unknown, unknown>,
  syslog: syslogNotifier as Notifier<unknown, unknown>,
};
