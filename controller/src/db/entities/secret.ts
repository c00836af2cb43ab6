import { defineEntity, type InferEntity } from '@mikro-orm/postgresql';

/** A value sealed under the master key (see crypto/master-key.ts); `name` is also its associated data. */
export const Secret = defineEntity({
  name: 'Secret',
  tableName: 'secrets',
  properties: (p) => ({
    name: p.string().primary(),
    sealed: p.blob(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  }),
});
export type Secret = InferEntity<typeof Secret>;
