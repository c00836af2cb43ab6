// Raw knex rows skip MikroORM's hydration, and MikroORM makes pg hand timestamptz back as text. The
// platform's parser reads that text the way the ORM itself does (postgres-date), so the API's
// timestamps match what entities would say.
import type { EntityManager } from '@mikro-orm/postgresql';

/** A timestamptz column of a raw row. */
export type SqlTimestamp = string | Date;

export function timestampParser(em: EntityManager): (value: SqlTimestamp) => Date {
  const platform = em.getPlatform();
  return (value) => (value instanceof Date ? value : platform.parseDate(value));
}
