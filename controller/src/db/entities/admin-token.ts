import { defineEntity, type InferEntity } from '@mikro-orm/postgresql';

export const ADMIN_ROLES = ['admin', 'operator', 'approver', 'auditor'] as const;
export type AdminRole = (typeof ADMIN_ROLES)[number];

/** A bearer token for the admin API. Only a SHA-256 hash of the token is kept. */
export const AdminToken = defineEntity({
  name: 'AdminToken',
  tableName: 'admin_tokens',
  properties: (p) => ({
    id: p.uuid().primary(),
    name: p.string(),
    tokenHash: p.string().unique(),
    role: p.enum([...ADMIN_ROLES]),
    createdAt: p.datetime().onCreate(() => new Date()),
    expiresAt: p.datetime().nullable(),
    lastUsedAt: p.datetime().nullable(),
    revokedAt: p.datetime().nullable(),
  }),
});
export type AdminToken = InferEntity<typeof AdminToken>;
