import { defineEntity, type InferEntity } from '@mikro-orm/postgresql';

export const CHANNEL_KINDS = ['email', 'snmp', 'webhook', 'syslog'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

/**
 * Where notifications go: one email relay, SNMP manager, webhook or syslog collector. `config` is shown
 * to admins; `sealedSecrets` (passwords, community strings, HMAC keys) is sealed under the master key with
 * the channel id as associated data and never leaves the controller.
 */
export const NotificationChannel = defineEntity({
  name: 'NotificationChannel',
  tableName: 'notification_channels',
  properties: (p) => ({
    id: p.uuid().primary(),
    name: p.string().length(100).unique(),
    kind: p.enum([...CHANNEL_KINDS]),
    config: p.json<Record<string, unknown>>(),
    sealedSecrets: p.blob().nullable(),
    /** Names of the secrets set (never their values), for display. */
    secretNames: p.json<string[]>(),
    /** Global default rule: event kinds sent here when a template says nothing about them ('*' = all). */
    defaultEvents: p.json<string[]>(),
    enabled: p.boolean(),
    maxAttempts: p.integer(),
    retryBackoffSeconds: p.integer(),
    timeoutSeconds: p.integer(),
    /** Syslog channels forwarding the audit trail: the last audit seq sent. */
    auditForwardedSeq: p.bigint('number').nullable(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  }),
});
export type NotificationChannel = InferEntity<typeof NotificationChannel>;
