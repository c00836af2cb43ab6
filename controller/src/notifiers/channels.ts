// Notification channels: create, change, delete (each audited, secrets never in the audit trail or the
// answers: only their names), and loading a channel with its secrets opened for sending.
import { LockMode, type EntityManager } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { appendAudit } from '../audit/audit-trail.js';
import type { SecretBox } from '../crypto/master-key.js';
import { NotificationChannel, type ChannelKind } from '../db/entities/notification-channel.js';
import { notifiers } from './registry.js';

export class ChannelError extends Error {
  override name = 'ChannelError';
  constructor(message: string, readonly status: 400 | 404 | 409) {
    super(message);
  }
}

export interface ChannelSettings {
  defaultEvents: string[];
  enabled: boolean;
  maxAttempts: number;
  retryBackoffSeconds: number;
  timeoutSeconds: number;
}

export interface NewChannel extends Partial<ChannelSettings> {
  name: string;
  kind: ChannelKind;
  config: unknown;
  secrets?: Record<string, string>;
}

export interface ChannelChange extends Partial<ChannelSettings> {
  /** Replaces the whole config when given. */
  config?: unknown;
  /** Sets the secrets given; a null value removes that secret. Others are kept. */
  secrets?: Record<string, string | null>;
}

export const CHANNEL_DEFAULTS: ChannelSettings = { defaultEvents: [], enabled: true, maxAttempts: 5, retryBackoffSeconds: 30, timeoutSeconds: 15 };

/** The view of a channel that may leave the controller. */
export function channelSummary(c: NotificationChannel) {
  return {
    id: c.id, name: c.name, kind: c.kind, config: c.config, secretNames: c.secretNames, defaultEvents: c.defaultEvents,
    enabled: c.enabled, maxAttempts: c.maxAttempts, retryBackoffSeconds: c.retryBackoffSeconds, timeoutSeconds: c.timeoutSeconds,
    auditForwardedSeq: c.auditForwardedSeq ?? null, createdAt: c.createdAt.toISOString(), updatedAt: c.updatedAt.toISOString(),
  };
}

function issueText(error: z.ZodError, part: string): string {
  const issue = error.issues[0];
  return `${part}${issue.path.length ? `.${issue.path.join('.')}` : ''}: ${issue.message}`;
}

/** Config and secrets checked against the kind's schemas and against each other. */
function validate(kind: ChannelKind, config: unknown, secrets: Record<string, string>): { config: Record<string, unknown>; secrets: Record<string, string> } {
  const notifier = notifiers[kind];
  const parsedConfig = notifier.configSchema.safeParse(config ?? {});
  if (!parsedConfig.success) throw new ChannelError(issueText(parsedConfig.error, 'config'), 400);
  const parsedSecrets = notifier.secretsSchema.safeParse(secrets);
  if (!parsedSecrets.success) throw new ChannelError(issueText(parsedSecrets.error, 'secrets'), 400);
  const problem = notifier.check?.(parsedConfig.data, parsedSecrets.data);
  if (problem) throw new ChannelError(problem, 400);
  return { config: parsedConfig.data as Record<string, unknown>, secrets: parsedSecrets.data as Record<string, string> };
}

/** The associated data binds sealed secrets to their channel: a blob copied to another row does not open. */
const sealName = (id: string) => `notification-channel:${id}`;

function seal(box: SecretBox, id: string, secrets: Record<string, string>): Buffer | null {
  return Object.keys(secrets).length ? box.seal(sealName(id), Buffer.from(JSON.stringify(secrets))) : null;
}

export function openSecrets(box: SecretBox, channel: Pick<NotificationChannel, 'id' | 'sealedSecrets'>): Record<string, string> {
  return channel.sealedSecrets ? JSON.parse(box.open(sealName(channel.id), Buffer.from(channel.sealedSecrets)).toString('utf8')) : {};
}

export async function createChannel(em: EntityManager, box: SecretBox, input: NewChannel, actor: string): Promise<NotificationChannel> {
  if (await em.count(NotificationChannel, { name: input.name })) throw new ChannelError(`a channel named "${input.name}" exists already`, 409);
  const { config, secrets } = validate(input.kind, input.config, input.secrets ?? {});
  const id = randomUUID();
  const now = new Date();
  return em.transactional(async (tx) => {
    const channel = tx.create(NotificationChannel, {
      id, name: input.name, kind: input.kind, config, sealedSecrets: seal(box, id, secrets), secretNames: Object.keys(secrets).sort(),
      defaultEvents: input.defaultEvents ?? CHANNEL_DEFAULTS.defaultEvents, enabled: input.enabled ?? CHANNEL_DEFAULTS.enabled,
      maxAttempts: input.maxAttempts ?? CHANNEL_DEFAULTS.maxAttempts, retryBackoffSeconds: input.retryBackoffSeconds ?? CHANNEL_DEFAULTS.retryBackoffSeconds,
      timeoutSeconds: input.timeoutSeconds ?? CHANNEL_DEFAULTS.timeoutSeconds,
      auditForwardedSeq: null, createdAt: now, updatedAt: now,
    });
    await tx.flush();
    await appendAudit(tx, { actor, action: 'notification-channel.create', targetType: 'notification-channel', targetId: input.name, after: channelSummary(channel) });
    return channel;
  });
}

export async function updateChannel(em: EntityManager, box: SecretBox, name: string, change: ChannelChange, actor: string): Promise<NotificationChannel> {
  return em.transactional(async (tx) => {
    const channel = await tx.findOne(NotificationChannel, { name }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!channel) throw new ChannelError(`no notification channel named "${name}"`, 404);
    const before = channelSummary(channel);
    const secrets = openSecrets(box, channel);
    for (const [key, value] of Object.entries(change.secrets ?? {})) {
      if (value === null) delete secrets[key];
      else secrets[key] = value;
    }
    let config: unknown = change.config ?? channel.config;
    // The SNMPv3 engine id is generated once and configured on receivers: a new config keeps it.
    const oldV3 = (channel.config as { v3?: { engineId?: string } }).v3;
    const newV3 = (config as { v3?: { engineId?: string } }).v3;
    if (channel.kind === 'snmp' && change.config && newV3 && !newV3.engineId && oldV3?.engineId) {
      config = { ...(config as object), v3: { ...newV3, engineId: oldV3.engineId } };
    }
    const valid = validate(channel.kind, config, secrets);
    channel.config = valid.config;
    channel.sealedSecrets = seal(box, channel.id, valid.secrets);
    channel.secretNames = Object.keys(valid.secrets).sort();
    for (const key of ['defaultEvents', 'enabled', 'maxAttempts', 'retryBackoffSeconds', 'timeoutSeconds'] as const) {
      if (change[key] !== undefined) (channel as Record<string, unknown>)[key] = change[key];
    }
    // Audit forwarding turned off forgets its position: turned on again, it starts from the newest entry.
    if (channel.kind === 'syslog' && !valid.config.forwardAudit) channel.auditForwardedSeq = null;
    channel.updatedAt = new Date();
    await tx.flush();
    await appendAudit(tx, { actor, action: 'notification-channel.update', targetType: 'notification-channel', targetId: name, before, after: channelSummary(channel) });
    return channel;
  });
}

export async function deleteChannel(em: EntityManager, name: string, actor: string): Promise<NotificationChannel> {
  return em.transactional(async (tx) => {
    const channel = await tx.findOne(NotificationChannel, { name });
    if (!channel) throw new ChannelError(`no notification channel named "${name}"`, 404);
    const before = channelSummary(channel);
    tx.remove(channel);
    await tx.flush();
    await appendAudit(tx, { actor, action: 'notification-channel.delete', targetType: 'notification-channel', targetId: name, before });
    return channel;
  });
}

export interface OpenedChannel {
  channel: NotificationChannel;
  config: unknown;
  secrets: unknown;
}

/** A channel ready to send: config and secrets parsed by its kind's schemas (defaults of newer code filled in). */
export function openChannel(box: SecretBox, channel: NotificationChannel): OpenedChannel {
  const notifier = notifiers[channel.kind];
  return {
    channel,
    config: notifier.configSchema.parse(channel.config),
    secrets: notifier.secretsSchema.parse(openSecrets(box, channel)),
  };
}
