import { defineEntity, type InferEntity } from '@mikro-orm/postgresql';
import { Agent } from './agent.js';

/** A keystore file on a host and whether the agent could open it (locked ones are findings). */
export const Keystore = defineEntity({
  name: 'Keystore',
  tableName: 'keystores',
  properties: (p) => ({
    id: p.uuid().primary(),
    agent: p.manyToOne(Agent).mapToPk().deleteRule('cascade'),
    path: p.text(),
    kind: p.string(),
    state: p.string(),
    certificates: p.integer(),
    firstSeenAt: p.datetime(),
    lastSeenAt: p.datetime(),
    removedAt: p.datetime().nullable(),
  }),
  uniques: [{ properties: ['agent', 'path'] }],
});
export type Keystore = InferEntity<typeof Keystore>;
