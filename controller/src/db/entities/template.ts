import { defineEntity, type InferEntity } from '@mikro-orm/postgresql';

/**
 * A workflow template. Its content lives in versions (template_versions); `currentVersion` names the one
 * new runs use. Archived templates adopt nothing and cannot be changed, but their versions stay readable
 * for the runs that used them.
 */
export const Template = defineEntity({
  name: 'Template',
  tableName: 'templates',
  properties: (p) => ({
    id: p.uuid().primary(),
    name: p.string().unique(),
    currentVersion: p.integer(),
    createdAt: p.datetime(),
    createdBy: p.string(),
    updatedAt: p.datetime(),
    archivedAt: p.datetime().nullable(),
  }),
});
export type Template = InferEntity<typeof Template>;
