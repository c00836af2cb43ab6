// The order URL kept per idempotency key (table acme_orders), written in its own statement the moment
// the CA has created the order, so it survives a crash of the transaction that records the certificate.
import type { EntityManager } from '@mikro-orm/postgresql';

export async function findOrderUrl(em: EntityManager, caId: string, idempotencyKey: string): Promise<string | null> {
  const [row] = await em.getConnection().execute<{ order_url: string }[]>(
    'select order_url from acme_orders where ca_id = ? and idempotency_key = ?', [caId, idempotencyKey]);
  return row?.order_url ?? null;
}

/** Stores (or replaces, when an earlier order went invalid) the key's order URL, committed at once. */
export async function saveOrderUrl(em: EntityManager, caId: string, idempotencyKey: string, orderUrl: string): Promise<void> {
  const now = new Date();
  await em.getConnection().execute(
    `insert into acme_orders (ca_id, idempotency_key, order_url, created_at, updated_at) values (?, ?, ?, ?, ?)
     on conflict (ca_id, idempotency_key) do update set order_url = excluded.order_url, updated_at = excluded.updated_at`,
    [caId, idempotencyKey, orderUrl, now, now], 'run');
}
