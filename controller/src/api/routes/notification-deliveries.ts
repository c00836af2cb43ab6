// The record of notification deliveries: every event sent (or not) to every channel, newest first.
import type { FastifyInstance } from 'fastify';
import { listDeliveries, type DeliveryRow } from '../../notifiers/deliveries.js';
import { requestEm, requirePermission } from '../auth.js';
import { deliveryPage, listDeliveriesQuery, type DeliverySummary } from '../notification-schemas.js';
import { problemResponses } from '../problem.js';
import type { ZodTypeProvider } from '../zod-compiler.js';

const iso = (d: Date | null) => d?.toISOString() ?? null;

export function deliveryView(row: DeliveryRow): DeliverySummary {
  return {
    id: row.id, eventId: row.eventId, eventKind: row.eventKind, summary: row.summary, channel: row.channelName, channelKind: row.channelKind,
    state: row.state, attempts: row.attempts, nextAttemptAt: iso(row.nextAttemptAt), lastError: row.lastError,
    providerMessageId: row.providerMessageId, createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString(), sentAt: iso(row.sentAt),
  };
}

export async function notificationDeliveryRoutes(instance: FastifyInstance): Promise<void> {
  const app = instance.withTypeProvider<ZodTypeProvider>();
  app.get('/api/v1/notification-deliveries', {
    onRequest: requirePermission('read-notifications'),
    schema: {
      tags: ['notifications'], summary: 'Notification deliveries, newest first, filtered by state, channel or event',
      querystring: listDeliveriesQuery, response: { 200: deliveryPage, ...problemResponses(400, 401, 403) },
    },
  }, async (request) => {
    const { limit, offset, ...filter } = request.query;
    const page = await listDeliveries(requestEm(request), filter, limit, offset);
    return { items: page.items.map(deliveryView), total: page.total, limit, offset };
  });
}
