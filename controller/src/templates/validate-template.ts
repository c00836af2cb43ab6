// Validating a template before it is stored: its shape and defaults (template-document.ts), then what only
// the database knows: the CAs it names exist and can issue what it asks for, the renewal threshold falls
// inside their lifetimes, the agents and approver tokens it names exist, and its match rule overlaps no
// other template's (a certificate must never belong to two templates at once).
//
// The first problem found is thrown as a TemplateInvalidError naming its field. Callers that write
// should run this inside the transaction that writes, under the template lock (template-changes.ts), so
// two templates with overlapping rules cannot both get in.
import type { EntityManager } from '@mikro-orm/postgresql';
import { AdminToken } from '../db/entities/admin-token.js';
import { Agent } from '../db/entities/agent.js';
import { CertificateAuthority } from '../db/entities/certificate-authority.js';
import { templateDocumentSchema, templateNameSchema, type TemplateDocument } from './template-document.js';
import { fieldPath, TemplateInvalidError } from './template-errors.js';
import { overlapWitness } from './template-match.js';
import { listTemplatesWithMatch } from './template-store.js';

/** The built-in CA: always known, even before its row exists. */
export const BUILTIN_CA_NAME = 'builtin';

/** Parses the document alone (no database): defaults filled in, or the first problem with its field. */
export function parseTemplateDocument(doc: unknown): TemplateDocument {
  const parsed = templateDocumentSchema.safeParse(doc);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue.code === 'unrecognized_keys') {
    return invalid([...issue.path, issue.keys[0]], `unknown field "${issue.keys[0]}"`);
  }
  // A bad record key (a label name): zod keeps the reason one level down.
  if (issue.code === 'invalid_key' && issue.issues[0]) return invalid(issue.path, `bad key: ${issue.issues[0].message}`);
  return invalid(issue.path, issue.message);
}

function invalid(path: ReadonlyArray<PropertyKey>, message: string): never {
  throw new TemplateInvalidError(fieldPath(path) || '(document)', message);
}

export async function validateTemplate(em: EntityManager, name: string, doc: unknown, selfId?: string): Promise<TemplateDocument> {
  const nameCheck = templateNameSchema.safeParse(name);
  if (!nameCheck.success) invalid(['name'], nameCheck.error.issues[0].message);
  const document = parseTemplateDocument(doc);
  await checkCertificateAuthorities(em, document);
  await checkDeployTargets(em, document);
  await checkApprovers(em, document);
  await checkMatchOverlap(em, document, selfId);
  return document;
}

async function checkCertificateAuthorities(em: EntityManager, doc: TemplateDocument): Promise<void> {
  const names = [...new Set(doc.ca.policy.map((entry) => entry.ca))];
  const rows = await em.find(CertificateAuthority, { name: { $in: names } });
  const byName = new Map(rows.map((ca) => [ca.name, ca]));
  for (const [i, entry] of doc.ca.policy.entries()) {
    const ca = byName.get(entry.ca);
    const field = ['ca', 'policy', i, 'ca'];
    if (!ca) {
      if (entry.ca === BUILTIN_CA_NAME) continue;
      const known = [BUILTIN_CA_NAME, ...(await em.find(CertificateAuthority, {}, { fields: ['name'], orderBy: { name: 'asc' } })).map((c) => c.name)];
      invalid(field, `unknown CA "${entry.ca}"; known CAs: ${[...new Set(known)].join(', ')}`);
    }
    if (ca.disabled) invalid(field, `CA "${ca.name}" is disabled`);
    const policy = ca.policy as Partial<typeof ca.policy> | null;
    // An entry restricted to other key types never applies to this template's key.
    const applies = !entry.when?.keyTypes || entry.when.keyTypes.includes(doc.key.type);
    if (applies && Array.isArray(policy?.keyTypes) && !policy.keyTypes.includes(doc.key.type)) {
      invalid(field, `CA "${ca.name}" does not issue ${doc.key.type} keys (its policy allows ${policy.keyTypes.join(', ')}); change key.type or the CA`);
    }
    const maxValidity = typeof policy?.maxValidityDays === 'number' ? policy.maxValidityDays : null;
    if (maxValidity === null) continue;
    if (doc.ca.validityDays !== undefined && doc.ca.validityDays > maxValidity) {
      invalid(['ca', 'validityDays'], `${doc.ca.validityDays} days is longer than CA "${ca.name}" issues (at most ${maxValidity} days)`);
    }
    const lifetime = doc.ca.validityDays ?? maxValidity;
    if (doc.renewal.daysBeforeExpiry >= lifetime) {
      invalid(['renewal', 'daysBeforeExpiry'],
        `${doc.renewal.daysBeforeExpiry} days before expiry is not inside the ${lifetime}-day lifetime of certificates from CA "${ca.name}": every renewal would be due at once`);
    }
  }
}

async function checkDeployTargets(em: EntityManager, doc: TemplateDocument): Promise<void> {
  if (doc.deploy.targets.length === 0) return;
  const agents = await em.find(Agent, { id: { $in: [...new Set(doc.deploy.targets.map((t) => t.agentId))] } }, { fields: ['id', 'name', 'revokedAt'] });
  const byId = new Map(agents.map((a) => [a.id, a]));
  for (const [i, target] of doc.deploy.targets.entries()) {
    const agent = byId.get(target.agentId);
    if (!agent) invalid(['deploy', 'targets', i, 'agentId'], `unknown agent ${target.agentId}`);
    if (agent.revokedAt) invalid(['deploy', 'targets', i, 'agentId'], `agent "${agent.name}" (${agent.id}) is revoked`);
  }
}

async function checkApprovers(em: EntityManager, doc: TemplateDocument): Promise<void> {
  const ids = doc.approval.gates.flatMap((g) => g.levels.flatMap((l) => l.approvers.tokens ?? []));
  if (ids.length === 0) return;
  const tokens = await em.find(AdminToken, { id: { $in: [...new Set(ids)] } }, { fields: ['id', 'name', 'role', 'revokedAt', 'expiresAt'] });
  const byId = new Map(tokens.map((t) => [t.id, t]));
  const now = new Date();
  for (const [g, gate] of doc.approval.gates.entries()) {
    for (const [l, level] of gate.levels.entries()) {
      for (const [t, id] of (level.approvers.tokens ?? []).entries()) {
        const field = ['approval', 'gates', g, 'levels', l, 'approvers', 'tokens', t];
        const token = byId.get(id);
        if (!token) invalid(field, `unknown admin token ${id}`);
        if (token.revokedAt || (token.expiresAt && token.expiresAt <= now)) invalid(field, `admin token "${token.name}" is revoked or expired`);
        if (token.role === 'auditor') invalid(field, `admin token "${token.name}" has role auditor, which cannot approve`);
      }
    }
  }
}

async function checkMatchOverlap(em: EntityManager, doc: TemplateDocument, selfId?: string): Promise<void> {
  if (!doc.match) return;
  for (const other of await listTemplatesWithMatch(em)) {
    if (other.templateId === selfId) continue;
    const witness = overlapWitness(doc.match, other.match);
    if (!witness) continue;
    const example = [
      witness.dnsNames.length ? `names ${witness.dnsNames.join(', ')}` : '',
      Object.keys(witness.labels).length ? `labels ${Object.entries(witness.labels).map(([k, v]) => `${k}=${v}`).join(', ')}` : '',
      witness.hostGroups.length ? `host group ${witness.hostGroups.join(', ')}` : '',
    ].filter(Boolean).join('; ');
    invalid(['match'], `overlaps the auto-adoption rule of template "${other.name}": a certificate could match both${example ? ` (e.g. ${example})` : ''}; make the rules disjoint`);
  }
}
