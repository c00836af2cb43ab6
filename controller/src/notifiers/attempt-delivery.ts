// One attempt of one claimed delivery: open the channel, send through its notifier within the channel's
// timeout, then record the outcome (sent; pending again with a backoff; or failed for good).
import type { EntityManager } from '@mikro-orm/postgresql';
import type { SecretBox } from '../crypto/master-key.js';
import { NotificationChannel } from '../db/entities/notification-channel.js';
import { certflowEventSchema } from '../events/certflow-event.js';
import type { Logger } from '../log.js';
import { openChannel } from './channels.js';
import { markFailed, markPartDone, markSent, retryDelayMs, type DeliveryRow } from './deliveries.js';
import { DeliveryError } from './notifier.js';
import { notifiers } from './registry.js';

/** Moments of an attempt a test can stop at (to kill the process there). */
export type DeliveryPoint = 'claimed' | 'accepted';

export interface AttemptDeps {
  em: () => EntityManager;
  box: SecretBox;
  log: Logger;
  claimant: string;
  /** Aborts sends in flight (the controller is stopping). */
  shutdown?: AbortSignal;
  onPoint?: (point: DeliveryPoint, row: DeliveryRow) => Promise<void>;
}

export interface AttemptOutcome {
  state: 'sent' | 'pending' | 'failed';
  error?: string;
  providerMessageId?: string;
}

export async function attemptDelivery(deps: AttemptDeps, row: DeliveryRow, options: { retry: boolean }): Promise<AttemptOutcome> {
  const em = deps.em();
  const channel = await em.findOne(NotificationChannel, { name: row.channelName });
  const fail = async (error: string, retryAt: Date | null): Promise<AttemptOutcome> => {
    await markFailed(deps.em(), row.id, deps.claimant, error, retryAt);
    return retryAt ? { state: 'pending', error } : { state: 'failed', error };
  };
  if (!channel) return fail('the channel was deleted', null);
  await deps.onPoint?.('claimed', row);

  const parsedEvent = certflowEventSchema.safeParse(row.event);
  if (!parsedEvent.success) return fail(`the stored event is not valid: ${parsedEvent.error.issues[0].message}`, null);
  const timeout = AbortSignal.timeout(channel.timeoutSeconds * 1000);
  const signal = deps.shutdown ? AbortSignal.any([timeout, deps.shutdown]) : timeout;
  const partsDone = new Set(row.partsDone);
  try {
    const opened = openChannel(deps.box, channel);
    const result = await notifiers[channel.kind].send(parsedEvent.data, opened.config, opened.secrets, signal, {
      deliveryId: row.id,
      attempt: row.attempts,
      partsDone,
      markPartDone: async (part) => {
        partsDone.add(part);
        await markPartDone(deps.em(), row.id, part);
      },
    });
    await deps.onPoint?.('accepted', row);
    await markSent(deps.em(), row.id, deps.claimant, result.providerMessageId);
    return { state: 'sent', providerMessageId: result.providerMessageId };
  } catch (err) {
    const error = err instanceof DeliveryError ? err : new DeliveryError((err as Error)?.message ?? String(err), false, { cause: err });
    const retryable = error.retryable && options.retry && row.attempts < channel.maxAttempts;
    const message = `attempt ${row.attempts}/${channel.maxAttempts}: ${error.message}`;
    deps.log.warn({ delivery: row.id, channel: row.channelName, event: row.eventId, retry: retryable, error: error.message }, 'notification delivery failed');
    return fail(message, retryable ? new Date(Date.now() + retryDelayMs(channel.retryBackoffSeconds, row.attempts)) : null);
  }
}
