import { defineEntity, type InferEntity } from '@mikro-orm/postgresql';

/** A single-use, expiring token an agent exchanges for its identity. Only a hash of the secret is kept. */
export const EnrollmentToken = defineEntity({
  name: 'EnrollmentToken',
  tableName: 'enrollment_tokens',
  properties: (p) => ({
    id: p.string().primary(),
    secretHash: p.string(),
    description: p.string().nullable(),
    createdBy: p.string(),
    createdAt: p.datetime().onCreate(() => new Date()),
    expiresAt: p.datetime(),
    usedAt: p.datetime().nullable(),
    usedByAgentId: p.uuid().nullable(),
  }),
});
export type EnrollmentToken = InferEntity<typeof EnrollmentToken>;
