import { defineEntity, type InferEntity } from '@mikro-orm/postgresql';
import { Template } from './template.js';

/**
 * One version of a template's document, written once and never changed: a run records the version it
 * used, and this row is what that version said. The document is stored with every default filled in.
 */
export const TemplateVersion = defineEntity({
  name: 'TemplateVersion',
  tableName: 'template_versions',
  properties: (p) => ({
    template: p.manyToOne(Template).mapToPk().primary().deleteRule('cascade'),
    version: p.integer().primary(),
    document: p.json<Record<string, unknown>>(),
    createdAt: p.datetime(),
    createdBy: p.string(),
  }),
});
export type TemplateVersion = InferEntity<typeof TemplateVersion>;
