// Managed certificates: adopt a discovered certificate or declare a new one, list and show them,
// change their template, labels, targets or state, and renew one now.
import type { FastifyInstance } from 'fastify';
import { ManagedCertificate } from '../../db/entities/managed-certificate.js';
import { appendAudit } from '../../audit/audit-trail.js';
import { adoptCertificate, declareCertificate, loadInventoryCertificate, ManagedCertificateError } from '../../managed/managed-certificates.js';
import type { Subjects } from '../../messaging/subjects.js';
import { findTemplateByName } from '../../templates/template-store.js';
import { kickOutbox } from '../../workflow/outbox.js';
import { RunActionError, startRun } from '../../workflow/runs.js';
import { principalOf, requestEm, requirePermission } from '../auth.js';
import { HttpProblem, notFound, problemResponses } from '../problem.js';
import { idParams } from '../schemas.js';
import { createManagedBody, listManagedQuery, managedPage, managedSummary, runSummary, updateManagedBody } from '../workflow-schemas.js';
import { RUN_SELECT, runSummaryOf, managedSummaries, type RunRow } from '../workflow-views.js';
import type { ZodTypeProvider } from '../zod-compiler.js';

const invalid = (field: string, detail: string) => Object.assign(new HttpProblem(400, 'invalid-request', 'Invalid request', `${field}: ${detail}`), { field });

export function managedCertificateRoutes(deps: { subjects: Subjects }) {
  return async (instance: FastifyInstance): Promise<void> => {
    const app = instance.withTypeProvider<ZodTypeProvider>();

    app.get('/api/v1/managed-certificates', {
      onRequest: requirePermission('read'),
      schema: { tags: ['workflow'], summary: 'Certificates under management', querystring: listManagedQuery, response: { 200: managedPage, ...problemResponses(400, 401, 403) } },
    }, async (request) => {
      const em = requestEm(request);
      const { state, template, q, limit, offset } = request.query;
      const where: Record<string, unknown> = {};
      if (state) where.state = state;
      if (template) {
        const t = await findTemplateByName(em, template);
        where.templateId = t?.id ?? '00000000-0000-0000-0000-000000000000';
      }
      if (q) where.name = { $ilike: `%${q.replace(/[%_\\]/g, '\\$&')}%` };
      const [rows, total] = await em.findAndCount(ManagedCertificate, where, { orderBy: { renewAfter: 'asc', name: 'asc' }, limit, offset });
      return { items: await managedSummaries(em, rows), total, limit, offset };
    });

    app.get('/api/v1/managed-certificates/:id', {
      onRequest: requirePermission('read'),
      schema: { tags: ['workflow'], summary: 'One managed certificate', params: idParams, response: { 200: managedSummary, ...problemResponses(400, 401, 403, 404) } },
    }, async (request) => {
      const em = requestEm(request);
      const row = await em.findOne(ManagedCertificate, { id: request.params.id });
      if (!row) throw notFound(`no managed certificate with id ${request.params.id}`);
      return (await managedSummaries(em, [row]))[0]!;
    });

    app.post('/api/v1/managed-certificates', {
      onRequest: requirePermission('manage-certificates'),
      schema: {
        tags: ['workflow'], summary: 'Adopt a discovered certificate ("certificate") or declare a new one ("dnsNames" + "targets")',
        body: createManagedBody, response: { 201: managedSummary, ...problemResponses(400, 401, 403, 404, 409) },
      },
    }, async (request, reply) => {
      const em = requestEm(request);
      const body = request.body;
      const actor = `operator:${principalOf(request).tokenId}`;
      const template = await findTemplateByName(em, body.template);
      if (!template || template.archivedAt) throw invalid('template', `no template named "${body.template}"`);
      try {
        const managed = await em.transactional(async (tx) => {
          if (body.certificate) {
            const cert = await loadInventoryCertificate(tx, body.certificate);
            if (!cert) throw new ManagedCertificateError(`no certificate ${body.certificate} in the inventory`, 404, 'certificate');
            const adopted = await adoptCertificate(tx, { certificate: cert, templateId: template.id, name: body.name, labels: body.labels, targets: body.targets, adoptedBy: actor }, new Date());
            if (!adopted) throw new ManagedCertificateError('this certificate is already managed (or the name is taken)', 409, 'certificate');
            return adopted;
          }
          const name = body.name ?? body.dnsNames![0]!;
          return declareCertificate(tx, { name, templateId: template.id, dnsNames: body.dnsNames!, ipAddresses: body.ipAddresses, labels: body.labels, targets: body.targets ?? [], adoptedBy: actor }, new Date());
        });
        return reply.code(201).send((await managedSummaries(em, [managed]))[0]!);
      } catch (err) {
        if (err instanceof ManagedCertificateError) {
          if (err.status === 400) throw invalid(err.field ?? 'body', err.message);
          throw new HttpProblem(err.status, err.status === 404 ? 'not-found' : 'conflict', err.status === 404 ? 'Not found' : 'Conflict', err.message);
        }
        throw err;
      }
    });

    app.patch('/api/v1/managed-certificates/:id', {
      onRequest: requirePermission('manage-certificates'),
      schema: { tags: ['workflow'], summary: 'Pause, resume or retire; change template, labels or targets', params: idParams, body: updateManagedBody, response: { 200: managedSummary, ...problemResponses(400, 401, 403, 404) } },
    }, async (request) => {
      const em = requestEm(request);
      const body = request.body;
      const updated = await em.transactional(async (tx) => {
        await tx.execute('select id from managed_certificates where id = ? for update', [request.params.id]);
        const row = await tx.findOne(ManagedCertificate, { id: request.params.id });
        if (!row) throw notFound(`no managed certificate with id ${request.params.id}`);
        const before = { state: row.state, templateId: row.templateId, labels: row.labels, targets: row.targets.length };
        if (body.template) {
          const template = await findTemplateByName(tx, body.template);
          if (!template || template.archivedAt) throw invalid('template', `no template named "${body.template}"`);
          row.templateId = template.id;
          row.renewalComputedWithVersion = null; // the scheduler recomputes the renewal time
        }
        if (body.state) row.state = body.state;
        if (body.labels) row.labels = body.labels;
        if (body.targets) row.targets = body.targets;
        row.updatedAt = new Date();
        await appendAudit(tx, { actor: `token:${principalOf(request).tokenId}`, action: 'managed-certificate.updated', targetType: 'managed_certificate', targetId: row.id,
          before, after: { state: row.state, templateId: row.templateId, labels: row.labels, targets: row.targets.length } });
        return row;
      });
      return (await managedSummaries(em, [updated]))[0]!;
    });

    app.post('/api/v1/managed-certificates/:id/renew', {
      onRequest: requirePermission('manage-certificates'),
      schema: { tags: ['workflow'], summary: 'Renew now: start a run (409 when one is already active)', params: idParams, response: { 202: runSummary, ...problemResponses(400, 401, 403, 404, 409) } },
    }, async (request, reply) => {
      const em = requestEm(request);
      const principal = principalOf(request);
      try {
        const runId = await em.transactional(async (tx) => {
          const row = await tx.findOne(ManagedCertificate, { id: request.params.id });
          if (!row) throw notFound(`no managed certificate with id ${request.params.id}`);
          if (row.state !== 'active') throw new HttpProblem(409, 'conflict', 'Conflict', `the certificate is ${row.state}; resume it first`);
          const run = await startRun(tx, deps.subjects, row, 'manual', principal.tokenId, new Date());
          if (!run) throw new HttpProblem(409, 'conflict', 'Conflict', 'a run is already active for this certificate');
          return run.id;
        });
        kickOutbox();
        const [row] = await em.execute<RunRow[]>(`${RUN_SELECT} where r.id = ?`, [runId]);
        return reply.code(202).send(runSummaryOf(row!));
      } catch (err) {
        if (err instanceof RunActionError) throw new HttpProblem(err.status, 'conflict', 'Conflict', err.message);
        throw err;
      }
    });
  };
}
