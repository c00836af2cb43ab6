// The ORM on Postgres. Migrations are listed statically (migrations/index.ts) so the same code runs under
// tsx, vitest and compiled JavaScript without globbing for files.
import { MikroORM, PostgreSqlDriver, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { fileURLToPath } from 'node:url';
import { allEntities } from './entities/index.js';
import { migrationsList } from './migrations/index.js';

export type Orm = MikroORM;

export const migrationsSourceDir = fileURLToPath(new URL('./migrations', import.meta.url))
  .replace(/\/dist\/controller\//, '/controller/');

/**
 * Connections a replica's workflow needs: a stage holds its transaction's connection while the built-in
 * CA commits its idempotency row (and reads its key) on a connection of its own, so each stage worked at
 * once may need two. With fewer, `workflowConcurrency` stages can each hold one and all wait for a second
 * until the pool's acquire timeout (60 s): the benchmark saw every run stall that long. The rest is for
 * the gateway, the scheduler, the outbox relay and the notifiers.
 */
export function poolSizeFor(workflowConcurrency: number): number {
  return Math.max(10, 2 * workflowConcurrency + 8);
}

export function ormOptions(databaseUrl: string, poolMax = 10): Options {
  return {
    driver: PostgreSqlDriver,
    clientUrl: databaseUrl,
    entities: allEntities,
    extensions: [Migrator],
    discovery: { warnWhenNoEntities: false },
    // The API has a pool of its own; the gateway, scheduler and workflow share theirs (poolSizeFor).
    pool: { min: 0, max: poolMax },
    migrations: {
      tableName: 'mikro_orm_migrations',
      path: migrationsSourceDir,
      pathTs: migrationsSourceDir,
      migrationsList,
      snapshot: false,
      transactional: true,
      allOrNothing: true,
      emit: 'ts',
      silent: true,
    },
    debug: false,
  };
}

/** Connects without touching the schema; `connect: false` lets the caller retry until Postgres is up. */
export async function createOrm(databaseUrl: string, options: { poolMax?: number } = {}): Promise<Orm> {
  return MikroORM.init({ ...ormOptions(databaseUrl, options.poolMax), connect: false });
}

/** An arbitrary constant naming the migrations' advisory lock. */
const MIGRATION_LOCK_KEY = 0x63666d67; // "cfmg"

/**
 * Applies pending migrations. Replicas started together on an empty database would otherwise both create
 * the same tables (and the migrations table itself) and one would fail; a transaction on its own
 * connection holds an advisory lock while this replica migrates, and the next one then finds nothing to do.
 */
export async function migrate(orm: Orm): Promise<string[]> {
  return orm.em.getConnection().getKnex().transaction(async (lock) => {
    await lock.raw('select pg_advisory_xact_lock(?)', [MIGRATION_LOCK_KEY]);
    const applied = await orm.getMigrator().up();
    return applied.map((m) => m.name);
  });
}
