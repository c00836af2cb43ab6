// Webhook: one JSON POST per event, signed (see webhook-signature.ts). Only a 2xx answer counts as
// delivered; redirects are not followed. A server that does not answer within the channel's timeout fails
// the attempt. X-Certflow-Delivery is the same on every attempt of a delivery: the receiver's idempotency key.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { linksFor } from '../event-text.js';
import { asDeliveryError, DeliveryError, type Notifier, type SendResult } from '../notifier.js';
import { webhookConfigSchema, webhookSecretsSchema, type WebhookConfig, type WebhookSecrets } from './webhook-config.js';
import { webhookBody } from './webhook-payloads.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, webhookSignature } from './webhook-signature.js';

interface Answer {
  status: number;
  body: string;
  requestId?: string;
}

function post(url: URL, headers: Record<string, string>, body: string, config: WebhookConfig, signal: AbortSignal): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      signal,
      ...(url.protocol === 'https:' ? { rejectUnauthorized: config.rejectUnauthorized, ...(config.caPem ? { ca: config.caPem } : {}) } : {}),
    }, (res: IncomingMessage) => {
      let text = '';
      res.setEncoding('utf8');
      // Only the start of the answer matters (for the error message); the rest is read and dropped.
      res.on('data', (chunk: string) => {
        if (text.length < 1000) text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text.slice(0, 1000), requestId: res.headers['x-request-id'] as string | undefined }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** 408, 429 and 5xx may pass later; other refusals will not. */
const retryableStatus = (status: number) => status === 408 || status === 429 || status >= 500;

export const webhookNotifier: Notifier<WebhookConfig, WebhookSecrets> = {
  kind: 'webhook',
  configSchema: webhookConfigSchema,
  secretsSchema: webhookSecretsSchema,
  check(config, secrets) {
    if (!config.url && !secrets.url) return 'a webhook channel needs a URL: config.url, or secrets.url when the URL carries a token';
    if (config.url && secrets.url) return 'give the URL once: config.url or secrets.url';
    if (config.format === 'certflow' && !secrets.signingSecret) return 'a webhook in certflow format needs secrets.signingSecret (receivers check X-Certflow-Signature)';
    return null;
  },
  async send(event, config, secrets, signal, context): Promise<SendResult> {
    const url = new URL((secrets.url ?? config.url)!);
    const body = webhookBody(event, config, linksFor(event, config.approvers), context?.deliveryId);
    const timestamp = Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {
      ...config.headers,
      'content-type': 'application/json',
      'user-agent': 'certflow',
      'x-certflow-event': event.kind,
      'x-certflow-event-id': event.id,
      ...(context ? { 'x-certflow-delivery': context.deliveryId } : {}),
      [TIMESTAMP_HEADER]: String(timestamp),
      ...(secrets.signingSecret ? { [SIGNATURE_HEADER]: webhookSignature(secrets.signingSecret, timestamp, body) } : {}),
    };
    // Never the URL itself in messages: it may be the secret one.
    const where = `webhook ${url.protocol}//${url.host}`;
    let answer: Answer;
    try {
      answer = await post(url, headers, body, config, signal);
    } catch (err) {
      throw asDeliveryError(err, signal, where);
    }
    if (answer.status >= 200 && answer.status < 300) return { providerMessageId: answer.requestId ?? `HTTP ${answer.status}` };
    const said = answer.body.trim() ? `: ${answer.body.trim().replace(/\s+/g, ' ').slice(0, 200)}` : '';
    if (answer.status >= 300 && answer.status < 400) throw new DeliveryError(`${where} answered a redirect (HTTP ${answer.status}), which is not followed`, false);
    throw new DeliveryError(`${where} answered HTTP ${answer.status}${said}`, retryableStatus(answer.status));
  },
};
