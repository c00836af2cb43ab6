import { defineEntity, type InferEntity } from '@mikro-orm/postgresql';
import { Agent } from './agent.js';
import { Certificate } from './certificate.js';

/**
 * A TLS endpoint as one agent saw it: the chain it served for one SNI name (or none). The leaf and the
 * chain's certificates are in the inventory like any other certificate.
 */
export const Endpoint = defineEntity({
  name: 'Endpoint',
  tableName: 'endpoints',
  properties: (p) => ({
    id: p.uuid().primary(),
    agent: p.manyToOne(Agent).mapToPk().deleteRule('cascade'),
    host: p.string(),
    port: p.integer(),
    /** The SNI name sent; '' for none. */
    serverName: p.string(),
    source: p.string(),
    ok: p.boolean(),
    leafCertificate: p.manyToOne(Certificate).mapToPk().nullable().deleteRule('set null').index(),
    chainFingerprints: p.json<string[]>(),
    /** Derived when the observation is recorded: does the served chain reach a self-signed or known root? */
    chainComplete: p.boolean().nullable(),
    /** Derived: the SNI name is not covered by the leaf's names. */
    nameMismatch: p.boolean().nullable(),
    protocol: p.string().nullable(),
    error: p.text().nullable(),
    firstSeenAt: p.datetime(),
    lastSeenAt: p.datetime(),
    removedAt: p.datetime().nullable(),
  }),
  uniques: [{ properties: ['agent', 'host', 'port', 'serverName'] }],
});
export type Endpoint = InferEntity<typeof Endpoint>;
