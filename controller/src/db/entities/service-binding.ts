import { defineEntity, type InferEntity } from '@mikro-orm/postgresql';
import { Agent } from './agent.js';

export interface ListenRecord {
  address: string | null;
  port: number;
}

/** A server configuration (nginx, Apache, HAProxy) that uses a certificate file on a host. */
export const ServiceBinding = defineEntity({
  name: 'ServiceBinding',
  tableName: 'service_bindings',
  properties: (p) => ({
    id: p.uuid().primary(),
    agent: p.manyToOne(Agent).mapToPk().deleteRule('cascade'),
    service: p.string(),
    configPath: p.text(),
    line: p.integer(),
    certificatePath: p.text(),
    keyPath: p.text().nullable(),
    chainPath: p.text().nullable(),
    serverNames: p.json<string[]>(),
    listen: p.json<ListenRecord[]>(),
    firstSeenAt: p.datetime(),
    lastSeenAt: p.datetime(),
    removedAt: p.datetime().nullable(),
  }),
  uniques: [{ properties: ['agent', 'service', 'configPath', 'line', 'certificatePath'] }],
  indexes: [{ properties: ['agent', 'certificatePath'] }],
});
export type ServiceBinding = InferEntity<typeof ServiceBinding>;
