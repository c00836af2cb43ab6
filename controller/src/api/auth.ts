// Bearer-token authentication and role checks for the admin API.
//
// The check runs as an `onRequest` hook, not a `preHandler`: a request without a valid token is turned
// away before its body is read or validated, so strangers learn nothing about the API from 400s.
import type { EntityManager } from '@mikro-orm/postgresql';
import type { FastifyInstance, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { authenticateAdminToken, type Principal } from '../auth/admin-tokens.js';
import type { AdminRole } from '../db/entities/admin-token.js';
import { forbidden, unauthenticated } from './problem.js';

/** What a route needs. Read covers every GET of the inventory. */
export type Permission = 'read' | 'create-enrollment-token' | 'manage-agents' | 'read-audit' | 'manage-admin-tokens' | 'manage-templates'
  /** Revoke certificates a CA issued: admins only. */
  | 'manage-cas'
  /** Adopt, declare and renew certificates; cancel, retry, roll back or accept runs. */
  | 'manage-certificates'
  /** Decide approval levels (which levels a token may decide is the template's business). */
  | 'approve'
  /** Notification channels (they hold SMTP/SNMP/webhook credentials): admins only. */
  | 'manage-notifications'
  /** The record of notification deliveries. */
  | 'read-notifications'
  /** Named secrets (keystore passwords): admins only. */
  | 'manage-secrets';

const permissions: Record<AdminRole, ReadonlySet<Permission>> = {
  admin: new Set(['read', 'create-enrollment-token', 'manage-agents', 'read-audit', 'manage-admin-tokens', 'manage-templates', 'manage-cas', 'manage-certificates', 'approve',
    'manage-notifications', 'read-notifications', 'manage-secrets']),
  operator: new Set(['read', 'create-enrollment-token', 'manage-agents', 'read-audit', 'manage-templates', 'manage-certificates', 'approve',
    'read-notifications']),
  approver: new Set(['read', 'approve']),
  auditor: new Set(['read', 'read-audit', 'read-notifications']),
};

export function roleAllows(role: AdminRole, permission: Permission): boolean {
  return permissions[role].has(permission);
}

const PRINCIPAL = 'certflowPrincipal';
const ENTITY_MANAGER = 'certflowEm';

/** Per-request state lives in Fastify request decorators, so nothing is added to Fastify's global types. */
export function decorateRequests(app: FastifyInstance): void {
  app.decorateRequest(PRINCIPAL, null);
  app.decorateRequest(ENTITY_MANAGER, null);
}

export function setRequestEm(request: FastifyRequest, em: EntityManager): void {
  request.setDecorator(ENTITY_MANAGER, em);
}

/** The request's own forked EntityManager (set in the server's first onRequest hook). */
export function requestEm(request: FastifyRequest): EntityManager {
  return request.getDecorator<EntityManager>(ENTITY_MANAGER);
}

/** The authenticated caller; only valid on routes guarded by `requirePermission`. */
export function principalOf(request: FastifyRequest): Principal {
  const principal = request.getDecorator<Principal | null>(PRINCIPAL);
  if (!principal) throw new Error('principalOf() called on a route without requirePermission()');
  return principal;
}

function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
  return match ? match[1] : null;
}

export function requirePermission(permission: Permission): onRequestAsyncHookHandler {
  return async (request) => {
    const header = request.headers.authorization;
    const token = bearerToken(header);
    if (!token) {
      throw unauthenticated(header ? 'the Authorization header must be "Bearer <token>"' : 'this endpoint needs an "Authorization: Bearer <token>" header');
    }
    const principal = await authenticateAdminToken(requestEm(request), token);
    if (!principal) throw unauthenticated('the token is unknown, revoked or expired');
    if (!roleAllows(principal.role, permission)) {
      throw forbidden(`role "${principal.role}" may not ${permission === 'read' ? 'read the inventory' : permission === 'create-enrollment-token' ? 'create enrolment tokens' : permission.replaceAll('-', ' ')}`);
    }
    request.setDecorator(PRINCIPAL, principal);
  };
}
