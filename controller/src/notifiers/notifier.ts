// The plug-in interface every notification channel kind implements (email, SNMP, webhook, syslog), and the
// error a failed send throws. A notifier only sends: routing, deduplication, retries and recording are the
// delivery worker's, so every kind behaves the same way there.
import type { z } from 'zod';
import type { CertflowEvent } from '../events/certflow-event.js';
import type { ChannelKind } from '../db/entities/notification-channel.js';

/** A send that did not happen. `retryable`: trying again later may work (network, 4xx SMTP, HTTP 5xx). */
export class DeliveryError extends Error {
  override name = 'DeliveryError';
  constructor(message: string, readonly retryable: boolean, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * What the worker tells a notifier about the delivery it is making. A message sent as several parts (one
 * email per approver) records each part the provider accepted, so a retry sends only the rest.
 */
export interface DeliveryContext {
  deliveryId: string;
  /** 1 for the first attempt. */
  attempt: number;
  partsDone: ReadonlySet<string>;
  markPartDone(part: string): Promise<void>;
}

export interface SendResult {
  /** The provider's id for what was sent (SMTP message id, HTTP request id, ...), for the record. */
  providerMessageId?: string;
}

export interface Notifier<Config = unknown, Secrets = unknown> {
  readonly kind: ChannelKind;
  /** The channel's visible settings, checked when a channel is created or changed. */
  readonly configSchema: z.ZodType<Config>;
  /** The channel's sealed settings (passwords, keys, community strings). */
  readonly secretsSchema: z.ZodType<Secrets>;
  /** Checks that need config and secrets together; returns what is wrong, or null. */
  check?(config: Config, secrets: Secrets): string | null;
  /**
   * Sends one event. Must give up when `signal` aborts (the channel's timeout) and throw a DeliveryError
   * saying why; never logs secrets or puts them in the error.
   */
  send(event: CertflowEvent, config: Config, secrets: Secrets, signal: AbortSignal, context?: DeliveryContext): Promise<SendResult>;
}

/** A DeliveryError for an aborted send, or the error itself when it already is one. */
export function asDeliveryError(err: unknown, signal: AbortSignal, what: string): DeliveryError {
  if (err instanceof DeliveryError) return err;
  if (signal.aborted) {
    const reason = signal.reason as Error | undefined;
    const timedOut = reason?.name === 'TimeoutError';
    return new DeliveryError(timedOut ? `${what}: no answer within the channel's timeout` : `${what}: interrupted`, true, { cause: err });
  }
  return new DeliveryError(`${what}: ${(err as Error)?.message ?? String(err)}`, true, { cause: err });
}
