// Workflow templates: list, read (any version), create, update (a new version each time, with optimistic
// concurrency through If-Match or expectedVersion) and archive. Every role reads; admins and operators
// write. A refused document is a 422 problem whose `field` is the JSON path at fault.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Template } from '../../db/entities/template.js';
import { archiveTemplate, createTemplate, updateTemplate } from '../../templates/template-changes.js';
import { TemplateConflictError, TemplateInvalidError, TemplateNotFoundError } from '../../templates/template-errors.js';
import { getTemplateByName, listTemplates, listTemplateVersions, readVersion, type TemplateVersionView } from '../../templates/template-store.js';
import { principalOf, requestEm, requirePermission } from '../auth.js';
import { HttpProblem, notFound, PROBLEM_CONTENT_TYPE, problemResponses } from '../problem.js';
import {
  createTemplateBody, listTemplatesQuery, templateDetail, templateList, templateNameParams, templateVersionList, templateVersionParams,
  updateTemplateBody,
} from '../template-schemas.js';
import type { ZodTypeProvider } from '../zod-compiler.js';

const iso = (d: Date | null | undefined) => d?.toISOString() ?? null;

function summary(template: Template, current: TemplateVersionView) {
  return {
    id: template.id, name: template.name, description: current.document.description ?? null, currentVersion: template.currentVersion,
    autoAdopts: current.document.match !== null, createdAt: template.createdAt.toISOString(), createdBy: template.createdBy,
    updatedAt: template.updatedAt.toISOString(), archivedAt: iso(template.archivedAt),
  };
}

/** The summary is always of the current version; the document is of the version asked for. */
function detail(template: Template, current: TemplateVersionView, shown: TemplateVersionView) {
  return {
    ...summary(template, current), version: shown.version, versionCreatedAt: shown.createdAt.toISOString(),
    versionCreatedBy: shown.createdBy, document: shown.document,
  };
}

const etag = (version: number) => `"${version}"`;

/** If-Match: "3", W/"3" or 3 name a version; '*' asks for none in particular. */
function versionFromIfMatch(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  const match = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(header);
  if (!match) throw new HttpProblem(400, 'invalid-request', 'Invalid request', `If-Match must name a template version such as "3", got ${header}`);
  return Number(match[1]);
}

/** Template errors as problem documents; anything else goes to the common error handler. */
function sendTemplateError(reply: FastifyReply, error: unknown): FastifyReply {
  const send = (status: number, kind: string, title: string, detail: string, extra: Record<string, unknown>) =>
    reply.code(status).type(PROBLEM_CONTENT_TYPE).send({ type: `urn:certflow:problem:${kind}`, title, status, detail, ...extra });
  if (error instanceof TemplateInvalidError) {
    return send(422, 'invalid-template', 'Invalid template', `${error.field}: ${error.message}`, { field: error.field });
  }
  if (error instanceof TemplateConflictError) {
    return send(409, 'conflict', 'Conflict', error.message, error.currentVersion === null ? {} : { currentVersion: error.currentVersion });
  }
  if (error instanceof TemplateNotFoundError) throw notFound(error.message);
  throw error;
}

export async function templateRoutes(instance: FastifyInstance): Promise<void> {
  const app = instance.withTypeProvider<ZodTypeProvider>();
  const actorOf = (request: Parameters<typeof principalOf>[0]) => `token:${principalOf(request).name}`;

  app.get('/api/v1/templates', {
    onRequest: requirePermission('read'),
    schema: {
      tags: ['templates'], summary: 'Every template, by name, with its current version', querystring: listTemplatesQuery,
      response: { 200: templateList, ...problemResponses(400, 401, 403) },
    },
  }, async (request) => {
    const rows = await listTemplates(requestEm(request), request.query.includeArchived);
    return { items: rows.map(({ template, current }) => summary(template, current)) };
  });

  app.post('/api/v1/templates', {
    onRequest: requirePermission('manage-templates'),
    schema: {
      tags: ['templates'], summary: 'Create a template (version 1); a refused document gets a 422 naming the field', body: createTemplateBody,
      response: { 201: templateDetail, ...problemResponses(400, 401, 403, 409, 422) },
    },
  }, async (request, reply) => {
    const em = requestEm(request);
    try {
      const created = await createTemplate(em, { name: request.body.name, document: request.body.document, actor: actorOf(request) });
      const template = await getTemplateByName(em, created.name);
      return reply.code(201).header('location', `/api/v1/templates/${encodeURIComponent(created.name)}`)
        .header('etag', etag(created.version)).send(detail(template, created, created));
    } catch (error) {
      return sendTemplateError(reply, error);
    }
  });

  app.get('/api/v1/templates/:name', {
    onRequest: requirePermission('read'),
    schema: {
      tags: ['templates'], summary: 'A template and its current document (ETag: the version)', params: templateNameParams,
      response: { 200: templateDetail, ...problemResponses(400, 401, 403, 404) },
    },
  }, async (request, reply) => {
    const em = requestEm(request);
    try {
      const template = await getTemplateByName(em, request.params.name);
      const current = await readVersion(em, template, template.currentVersion);
      return reply.header('etag', etag(current.version)).send(detail(template, current, current));
    } catch (error) {
      return sendTemplateError(reply, error);
    }
  });

  app.put('/api/v1/templates/:name', {
    onRequest: requirePermission('manage-templates'),
    schema: {
      tags: ['templates'],
      summary: 'Replace the document: a new version. If-Match or expectedVersion make it refuse (409) when someone changed it first',
      params: templateNameParams, body: updateTemplateBody,
      response: { 200: templateDetail, ...problemResponses(400, 401, 403, 404, 409, 422) },
    },
  }, async (request, reply) => {
    const fromHeader = versionFromIfMatch(request.headers['if-match']);
    const fromBody = request.body.expectedVersion;
    if (fromHeader !== undefined && fromBody !== undefined && fromHeader !== fromBody) {
      throw new HttpProblem(400, 'invalid-request', 'Invalid request', `If-Match names version ${fromHeader} but expectedVersion is ${fromBody}`);
    }
    const em = requestEm(request);
    try {
      const updated = await updateTemplate(em, {
        name: request.params.name, document: request.body.document, actor: actorOf(request), expectedVersion: fromHeader ?? fromBody,
      });
      const template = await getTemplateByName(em, updated.name);
      return reply.header('etag', etag(updated.version)).send(detail(template, updated, updated));
    } catch (error) {
      return sendTemplateError(reply, error);
    }
  });

  app.delete('/api/v1/templates/:name', {
    onRequest: requirePermission('manage-templates'),
    schema: {
      tags: ['templates'], summary: 'Archive a template: it adopts nothing more and cannot change; its versions stay readable',
      params: templateNameParams, response: { 200: templateDetail, ...problemResponses(400, 401, 403, 404, 409) },
    },
  }, async (request, reply) => {
    const em = requestEm(request);
    try {
      const template = await archiveTemplate(em, { name: request.params.name, actor: actorOf(request) });
      const current = await readVersion(em, template, template.currentVersion);
      return reply.send(detail(template, current, current));
    } catch (error) {
      return sendTemplateError(reply, error);
    }
  });

  app.get('/api/v1/templates/:name/versions', {
    onRequest: requirePermission('read'),
    schema: {
      tags: ['templates'], summary: 'A template\'s versions, oldest first', params: templateNameParams,
      response: { 200: templateVersionList, ...problemResponses(400, 401, 403, 404) },
    },
  }, async (request, reply) => {
    const em = requestEm(request);
    try {
      const template = await getTemplateByName(em, request.params.name);
      const versions = await listTemplateVersions(em, template);
      return reply.send({
        name: template.name,
        items: versions.map((v) => ({ ...v, createdAt: v.createdAt.toISOString(), current: v.version === template.currentVersion })),
      });
    } catch (error) {
      return sendTemplateError(reply, error);
    }
  });

  app.get('/api/v1/templates/:name/versions/:version', {
    onRequest: requirePermission('read'),
    schema: {
      tags: ['templates'], summary: 'One version of a template, as it was written', params: templateVersionParams,
      response: { 200: templateDetail, ...problemResponses(400, 401, 403, 404) },
    },
  }, async (request, reply) => {
    const em = requestEm(request);
    try {
      const template = await getTemplateByName(em, request.params.name);
      const current = await readVersion(em, template, template.currentVersion);
      const shown = await readVersion(em, template, request.params.version);
      return reply.send(detail(template, current, shown));
    } catch (error) {
      return sendTemplateError(reply, error);
    }
  });
}
