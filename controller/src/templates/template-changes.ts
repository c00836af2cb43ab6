// Changing templates: create, update (always a new version; old ones are kept for the runs that used
// them) and archive. Each change is validated, written and audited in one transaction, under one
// advisory lock for all template writes: writes are rare, and the lock is what lets the overlap check
// see every other template's final rule (two overlapping templates created at once cannot both pass).
import type { EntityManager } from '@mikro-orm/postgresql';
import { appendAudit } from '../audit/audit-trail.js';
import { Template } from '../db/entities/template.js';
import { TemplateVersion } from '../db/entities/template-version.js';
import type { TemplateDocument } from './template-document.js';
import { TemplateConflictError, TemplateNotFoundError } from './template-errors.js';
import { readVersion, type TemplateVersionView } from './template-store.js';
import { validateTemplate } from './validate-template.js';

/** An arbitrary constant naming the template writers' advisory lock ("cftp"). */
const TEMPLATE_LOCK_KEY = 0x63667470;

/** The built-in template: it cannot be archived (it is what certificates fall back to). */
export const DEFAULT_TEMPLATE_NAME = 'default';

async function lockTemplates(tx: EntityManager): Promise<void> {
  await tx.execute('select pg_advisory_xact_lock(?)', [TEMPLATE_LOCK_KEY]);
}

function auditView(version: number, document: TemplateDocument): { version: number; document: TemplateDocument } {
  return { version, document };
}

export async function createTemplate(
  em: EntityManager, input: { name: string; document: unknown; actor: string },
): Promise<TemplateVersionView> {
  return em.transactional(async (tx) => {
    await lockTemplates(tx);
    const existing = await tx.findOne(Template, { name: input.name });
    if (existing) {
      throw new TemplateConflictError(existing.archivedAt
        ? `template "${input.name}" exists (archived); choose another name`
        : `template "${input.name}" already exists; update it instead`, existing.currentVersion);
    }
    const document = await validateTemplate(tx, input.name, input.document);
    const now = new Date();
    const template = tx.create(Template, {
      id: crypto.randomUUID(), name: input.name, currentVersion: 1, createdAt: now, createdBy: input.actor, updatedAt: now, archivedAt: null,
    });
    tx.create(TemplateVersion, { template: template.id, version: 1, document, createdAt: now, createdBy: input.actor });
    await tx.flush();
    await appendAudit(tx, {
      actor: input.actor, action: 'template.create', targetType: 'template', targetId: template.id,
      after: { name: template.name, ...auditView(1, document) },
    });
    return readVersion(tx, template, 1);
  });
}

export async function updateTemplate(
  em: EntityManager, input: { name: string; document: unknown; actor: string; expectedVersion?: number },
): Promise<TemplateVersionView> {
  return em.transactional(async (tx) => {
    await lockTemplates(tx);
    const template = await tx.findOne(Template, { name: input.name });
    if (!template) throw new TemplateNotFoundError(`no template named "${input.name}"`);
    if (template.archivedAt) throw new TemplateConflictError(`template "${input.name}" is archived; archived templates cannot change`, template.currentVersion);
    if (input.expectedVersion !== undefined && input.expectedVersion !== template.currentVersion) {
      throw new TemplateConflictError(
        `template "${input.name}" is at version ${template.currentVersion}, not ${input.expectedVersion}: someone changed it since you read it; read it again and reapply your change`,
        template.currentVersion);
    }
    const document = await validateTemplate(tx, input.name, input.document, template.id);
    const before = await readVersion(tx, template, template.currentVersion);
    const version = template.currentVersion + 1;
    const now = new Date();
    tx.create(TemplateVersion, { template: template.id, version, document, createdAt: now, createdBy: input.actor });
    template.currentVersion = version;
    template.updatedAt = now;
    await tx.flush();
    await appendAudit(tx, {
      actor: input.actor, action: 'template.update', targetType: 'template', targetId: template.id,
      before: { name: template.name, ...auditView(before.version, before.document) },
      after: { name: template.name, ...auditView(version, document) },
    });
    return readVersion(tx, template, version);
  });
}

/** Archives a template: it adopts nothing more and cannot change; its versions stay readable. */
export async function archiveTemplate(em: EntityManager, input: { name: string; actor: string }): Promise<Template> {
  return em.transactional(async (tx) => {
    await lockTemplates(tx);
    const template = await tx.findOne(Template, { name: input.name });
    if (!template) throw new TemplateNotFoundError(`no template named "${input.name}"`);
    if (template.name === DEFAULT_TEMPLATE_NAME) {
      throw new TemplateConflictError('the built-in template "default" cannot be archived', template.currentVersion);
    }
    // Archiving twice is not an error and not a second operation.
    if (template.archivedAt) return template;
    const now = new Date();
    template.archivedAt = now;
    template.updatedAt = now;
    await tx.flush();
    await appendAudit(tx, {
      actor: input.actor, action: 'template.archive', targetType: 'template', targetId: template.id,
      before: { name: template.name, version: template.currentVersion, archivedAt: null },
      after: { name: template.name, version: template.currentVersion, archivedAt: now.toISOString() },
    });
    return template;
  });
}
