// Notification channels: list, show, create, change, delete (admins: channels hold credentials), and a
// test send that goes out at once and answers with the delivery it recorded.
import type { FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { SecretBox } from '../../crypto/master-key.js';
import { NotificationChannel } from '../../db/entities/notification-channel.js';
import type { CertflowEvent } from '../../events/certflow-event.js';
import type { Logger } from '../../log.js';
import { attemptDelivery } from '../../notifiers/attempt-delivery.js';
import { ChannelError, channelSummary, createChannel, deleteChannel, updateChannel } from '../../notifiers/channels.js';
import { claimOne, listDeliveries, recordDeliveries } from '../../notifiers/deliveries.js';
import { principalOf, requestEm, requirePermission } from '../auth.js';
import { HttpProblem, notFound, problemResponses, unavailable } from '../problem.js';
import { channelList, channelNameParams, channelSummarySchema, createChannelBody, deliverySchema, updateChannelBody } from '../notification-schemas.js';
import { deliveryView } from './notification-deliveries.js';
import type { ZodTypeProvider } from '../zod-compiler.js';

function problemOf(err: unknown): unknown {
  if (!(err instanceof ChannelError)) return err;
  if (err.status === 404) return notFound(err.message);
  if (err.status === 409) return new HttpProblem(409, 'conflict', 'Conflict', err.message);
  return new HttpProblem(400, 'invalid-request', 'Invalid request', err.message);
}

export function notificationChannelRoutes(deps: { secretBox: () => SecretBox | null }) {
  const box = (): SecretBox => {
    const b = deps.secretBox();
    if (!b) throw unavailable('the master key is not loaded');
    return b;
  };

  return async function routes(instance: FastifyInstance): Promise<void> {
    const app = instance.withTypeProvider<ZodTypeProvider>();
    const actor = (request: Parameters<typeof principalOf>[0]) => `token:${principalOf(request).name}`;

    app.get('/api/v1/notification-channels', {
      onRequest: requirePermission('manage-notifications'),
      schema: { tags: ['notifications'], summary: 'Every notification channel (secrets only by name)', response: { 200: channelList, ...problemResponses(401, 403) } },
    }, async (request) => {
      const channels = await requestEm(request).find(NotificationChannel, {}, { orderBy: { name: 'asc' } });
      return { items: channels.map(channelSummary) };
    });

    app.get('/api/v1/notification-channels/:name', {
      onRequest: requirePermission('manage-notifications'),
      schema: { tags: ['notifications'], summary: 'One notification channel', params: channelNameParams, response: { 200: channelSummarySchema, ...problemResponses(400, 401, 403, 404) } },
    }, async (request) => {
      const channel = await requestEm(request).findOne(NotificationChannel, { name: request.params.name });
      if (!channel) throw notFound(`no notification channel named "${request.params.name}"`);
      return channelSummary(channel);
    });

    app.post('/api/v1/notification-channels', {
      onRequest: requirePermission('manage-notifications'),
      schema: {
        tags: ['notifications'], summary: 'Create a notification channel', body: createChannelBody,
        response: { 201: channelSummarySchema, ...problemResponses(400, 401, 403, 409, 503) },
      },
    }, async (request, reply) => {
      try {
        const channel = await createChannel(requestEm(request), box(), request.body, actor(request));
        return reply.code(201).send(channelSummary(channel));
      } catch (err) {
        throw problemOf(err);
      }
    });

    app.patch('/api/v1/notification-channels/:name', {
      onRequest: requirePermission('manage-notifications'),
      schema: {
        tags: ['notifications'], summary: 'Change a notification channel', params: channelNameParams, body: updateChannelBody,
        response: { 200: channelSummarySchema, ...problemResponses(400, 401, 403, 404, 503) },
      },
    }, async (request) => {
      try {
        return channelSummary(await updateChannel(requestEm(request), box(), request.params.name, request.body, actor(request)));
      } catch (err) {
        throw problemOf(err);
      }
    });

    app.delete('/api/v1/notification-channels/:name', {
      onRequest: requirePermission('manage-notifications'),
      schema: {
        tags: ['notifications'], summary: 'Delete a notification channel (its deliveries stay on record)', params: channelNameParams,
        response: { 200: channelSummarySchema, ...problemResponses(400, 401, 403, 404) },
      },
    }, async (request) => {
      try {
        return channelSummary(await deleteChannel(requestEm(request), request.params.name, actor(request)));
      } catch (err) {
        throw problemOf(err);
      }
    });

    app.post('/api/v1/notification-channels/:name/test', {
      onRequest: requirePermission('manage-notifications'),
      schema: {
        tags: ['notifications'], summary: 'Send a test notification now; answers with its delivery (sent, or failed with the reason)',
        params: channelNameParams, body: z.strictObject({ message: z.string().max(500).optional() }).nullish(),
        response: { 200: deliverySchema, ...problemResponses(400, 401, 403, 404, 503) },
      },
    }, async (request) => {
      const em = requestEm(request);
      const channel = await em.findOne(NotificationChannel, { name: request.params.name });
      if (!channel) throw notFound(`no notification channel named "${request.params.name}"`);
      const secretBox = box();
      const who = actor(request);
      const event: CertflowEvent = {
        id: randomUUID(), kind: 'test', occurredAt: new Date().toISOString(),
        summary: request.body?.message ?? `Test notification from certflow to channel "${channel.name}", requested by ${who}`,
        severity: 'info', runId: null, managedCertificateId: null, templateId: null, details: {},
      };
      const claimant = `api:${request.id}`;
      // Written and claimed in one transaction: the delivery worker, polling for pending rows, never sees
      // this one unclaimed (it would send it itself, and the operator would get "sending").
      const claimed = await em.fork().transactional(async (tx) => {
        await recordDeliveries(tx, event, [{ name: channel.name, kind: channel.kind }]);
        const { items: [row] } = await listDeliveries(tx, { eventId: event.id }, 1, 0);
        return claimOne(tx, row.id, claimant, channel.timeoutSeconds + 10);
      });
      if (claimed) {
        // One attempt, no retries: the operator is waiting for the answer.
        await attemptDelivery({ em: () => em.fork(), box: secretBox, log: request.log as unknown as Logger, claimant }, claimed, { retry: false });
      }
      const { items: [done] } = await listDeliveries(em.fork(), { eventId: event.id }, 1, 0);
      return deliveryView(done);
    });
  };
}
