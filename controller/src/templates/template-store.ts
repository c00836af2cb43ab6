// Reading templates: a template's versions, the current one, and the match rules that auto-adopt. The
// workflow engine reads templates only through here, so a stored document always comes back parsed
// (every default present) and typed.
import type { EntityManager } from '@mikro-orm/postgresql';
import { Template } from '../db/entities/template.js';
import { TemplateVersion } from '../db/entities/template-version.js';
import { templateDocumentSchema, type TemplateDocument, type TemplateMatch } from './template-document.js';
import { TemplateNotFoundError } from './template-errors.js';

export interface TemplateVersionView {
  templateId: string;
  name: string;
  version: number;
  document: TemplateDocument;
  createdAt: Date;
  createdBy: string;
}

/**
 * Stored documents were parsed before they were written; parsing again on the way out fills in fields
 * added by later code with their defaults.
 */
function parseStored(document: unknown): TemplateDocument {
  return templateDocumentSchema.parse(document);
}

/** One version of a template (the current one when `version` is absent), archived or not. */
export async function getTemplateVersion(em: EntityManager, templateId: string, version?: number): Promise<TemplateVersionView> {
  const template = await em.findOne(Template, { id: templateId });
  if (!template) throw new TemplateNotFoundError(`no template with id ${templateId}`);
  return readVersion(em, template, version ?? template.currentVersion);
}

export async function findTemplateByName(em: EntityManager, name: string): Promise<Template | null> {
  return em.findOne(Template, { name });
}

export async function getTemplateByName(em: EntityManager, name: string): Promise<Template> {
  const template = await findTemplateByName(em, name);
  if (!template) throw new TemplateNotFoundError(`no template named "${name}"`);
  return template;
}

export async function readVersion(em: EntityManager, template: Template, version: number): Promise<TemplateVersionView> {
  const row = await em.findOne(TemplateVersion, { template: template.id, version });
  if (!row) throw new TemplateNotFoundError(`template "${template.name}" has no version ${version} (versions 1 to ${template.currentVersion})`);
  return {
    templateId: template.id, name: template.name, version: row.version, document: parseStored(row.document),
    createdAt: row.createdAt, createdBy: row.createdBy,
  };
}

/** Every template (archived ones only when asked), by name, with its current version's document. */
export async function listTemplates(em: EntityManager, includeArchived: boolean): Promise<Array<{ template: Template; current: TemplateVersionView }>> {
  const templates = await em.find(Template, includeArchived ? {} : { archivedAt: null }, { orderBy: { name: 'asc' } });
  if (templates.length === 0) return [];
  const versions = await em.find(TemplateVersion, {
    $or: templates.map((t) => ({ template: t.id, version: t.currentVersion })),
  });
  const byTemplate = new Map(versions.map((v) => [v.template, v]));
  return templates.map((template) => {
    const row = byTemplate.get(template.id)!;
    return {
      template,
      current: {
        templateId: template.id, name: template.name, version: row.version, document: parseStored(row.document),
        createdAt: row.createdAt, createdBy: row.createdBy,
      },
    };
  });
}

/** A template's versions, oldest first, without their documents. */
export async function listTemplateVersions(em: EntityManager, template: Template): Promise<Array<{ version: number; createdAt: Date; createdBy: string }>> {
  const rows = await em.find(TemplateVersion, { template: template.id }, { orderBy: { version: 'asc' }, fields: ['version', 'createdAt', 'createdBy'] });
  return rows.map((r) => ({ version: r.version, createdAt: r.createdAt, createdBy: r.createdBy }));
}

export interface TemplateMatchRule {
  templateId: string;
  name: string;
  version: number;
  match: TemplateMatch;
}

/** The current versions that auto-adopt: not archived, with a match rule. */
export async function listTemplatesWithMatch(em: EntityManager): Promise<TemplateMatchRule[]> {
  const rows = await em.execute<Array<{ id: string; name: string; version: number; document: unknown }>>(
    `select t.id, t.name, v.version, v.document
       from templates t join template_versions v on v.template_id = t.id and v.version = t.current_version
      where t.archived_at is null and jsonb_typeof(v.document -> 'match') = 'object'
      order by t.name`);
  return rows.map((r) => ({ templateId: r.id, name: r.name, version: r.version, match: parseStored(r.document).match! }));
}
