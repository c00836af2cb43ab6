// Request and response shapes of the template routes (zod only, like schemas.ts: certflowctl imports the
// types). The document itself is checked by the template module, not here, so that a bad document gets
// a 422 naming the field inside the document ('renewal.daysBeforeExpiry'), the same message the CLI shows.
import { z } from 'zod';

const timestamp = z.string().meta({ format: 'date-time', example: '2026-01-31T12:00:00.000Z' });

const templateDocument = z.record(z.string(), z.unknown())
  .meta({ description: 'A template document; every field is optional and defaulted (see docs/templates.md)' });

export const templateNameParams = z.strictObject({ name: z.string().min(1).max(100) });
export const templateVersionParams = z.strictObject({
  name: z.string().min(1).max(100),
  version: z.coerce.number().int().min(1).max(1_000_000_000),
});

export const listTemplatesQuery = z.strictObject({
  includeArchived: z.enum(['true', 'false']).default('false').transform((v) => v === 'true')
    .meta({ description: 'Also list archived templates' }),
});

export const createTemplateBody = z.strictObject({
  name: z.string().min(1).max(100).meta({ description: 'A lower-case slug, unique among all templates (archived ones too)' }),
  document: templateDocument,
});

export const updateTemplateBody = z.strictObject({
  document: templateDocument,
  expectedVersion: z.int().min(1).optional()
    .meta({ description: 'Refuse (409) unless this is still the current version; same as If-Match: "<version>"' }),
});

export const templateSummary = z.object({
  id: z.uuid(),
  name: z.string(),
  description: z.string().nullable(),
  currentVersion: z.int(),
  autoAdopts: z.boolean().meta({ description: 'The current version has a match rule' }),
  createdAt: timestamp,
  createdBy: z.string(),
  updatedAt: timestamp,
  archivedAt: timestamp.nullable(),
});
export type TemplateSummary = z.infer<typeof templateSummary>;
export const templateList = z.object({ items: z.array(templateSummary) });

/** A template with one version's document: the current one (GET /templates/:name) or any other. */
export const templateDetail = templateSummary.extend({
  version: z.int(),
  versionCreatedAt: timestamp,
  versionCreatedBy: z.string(),
  document: z.record(z.string(), z.unknown()).meta({ description: 'With every default filled in' }),
});
export type TemplateDetail = z.infer<typeof templateDetail>;

export const templateVersionSummary = z.object({
  version: z.int(),
  createdAt: timestamp,
  createdBy: z.string(),
  current: z.boolean(),
});
export type TemplateVersionSummary = z.infer<typeof templateVersionSummary>;
export const templateVersionList = z.object({ name: z.string(), items: z.array(templateVersionSummary) });

