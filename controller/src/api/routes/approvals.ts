// Approvals: the pending levels (and decided ones), a decision through the API, and a decision through
// a signed link from a notification. A link's GET only shows the run and two buttons: mail scanners
// fetch links, so deciding takes a POST.
import type { FastifyInstance } from 'fastify';
import { ApprovalLink } from '../../db/entities/approval.js';
import type { SecretBox } from '../../crypto/master-key.js';
import type { Subjects } from '../../messaging/subjects.js';
import { ApprovalLinkError, openApprovalLink } from '../../workflow/approval-links.js';
import { ApprovalRefusedError, decide } from '../../workflow/approvals.js';
import { kickOutbox } from '../../workflow/outbox.js';
import { principalOf, requestEm, requirePermission } from '../auth.js';
import { forbidden, HttpProblem, notFound, problemResponses } from '../problem.js';
import { idParams } from '../schemas.js';
import { approvalList, approvalView, decisionBody, listApprovalsQuery } from '../workflow-schemas.js';
import { approvalsOf } from '../workflow-views.js';
import type { ZodTypeProvider } from '../zod-compiler.js';
import { z } from 'zod';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function refusal(err: ApprovalRefusedError): HttpProblem {
  if (err.status === 404) return notFound(err.message);
  if (err.status === 403) return forbidden(err.message);
  return new HttpProblem(409, 'conflict', 'Conflict', err.message);
}

export function approvalRoutes(deps: { subjects: Subjects; box: SecretBox | null }) {
  return async (instance: FastifyInstance): Promise<void> => {
    const app = instance.withTypeProvider<ZodTypeProvider>();
    // The link page's buttons post an HTML form.
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(String(body))));
    });

    app.get('/api/v1/approvals', {
      onRequest: requirePermission('read'),
      schema: { tags: ['workflow'], summary: 'Approval levels (pending by default)', querystring: listApprovalsQuery, response: { 200: approvalList, ...problemResponses(400, 401, 403) } },
    }, async (request) => ({ items: await approvalsOf(requestEm(request), { state: request.query.state, runId: request.query.runId }) }));

    app.post('/api/v1/approvals/:id/decision', {
      onRequest: requirePermission('approve'),
      schema: {
        tags: ['workflow'], summary: 'Approve or reject one approval level (bypass: admins only, recorded)', params: idParams, body: decisionBody,
        response: { 200: approvalView, ...problemResponses(400, 401, 403, 404, 409) },
      },
    }, async (request) => {
      const em = requestEm(request);
      const principal = principalOf(request);
      try {
        const decided = await em.transactional((tx) => decide(tx, deps.subjects, {
          approvalId: request.params.id, approver: { tokenId: principal.tokenId, name: principal.name, role: principal.role },
          decision: request.body.decision, comment: request.body.comment, via: 'api',
        }, new Date()));
        kickOutbox();
        return (await approvalsOf(em, { runId: decided.runId })).find((a) => a.id === decided.id)!;
      } catch (err) {
        if (err instanceof ApprovalRefusedError) throw refusal(err);
        throw err;
      }
    });

    const tokenParams = z.strictObject({ token: z.string().min(10).max(400) });

    app.get('/approve/:token', {
      schema: { tags: ['workflow'], summary: 'The page a signed approval link opens (decides nothing)', security: [], params: tokenParams, querystring: z.looseObject({}),
        response: { 200: z.string().meta({ description: 'An HTML page with Approve and Reject buttons' }), 410: z.string().meta({ description: 'An HTML page saying why the link cannot be used' }) } },
    }, async (request, reply) => {
      const em = requestEm(request);
      if (!deps.box) throw new HttpProblem(503, 'unavailable', 'Service unavailable', 'approval links need the master key');
      let link: ApprovalLink;
      try {
        link = await em.transactional((tx) => openApprovalLink(tx, deps.box!, request.params.token, new Date()));
      } catch (err) {
        if (err instanceof ApprovalLinkError) return reply.code(410).type('text/html; charset=utf-8').send(page('Approval link', `<p>${escapeHtml(err.message)}</p>`));
        throw err;
      }
      const [approval] = (await approvalsOf(em, { runId: link.runId })).filter((a) => a.id === link.approvalRequestId);
      const action = `/approve/${encodeURIComponent(request.params.token)}`;
      const body = `<p>Renewal of <b>${escapeHtml((approval?.dnsNames ?? []).join(', '))}</b> waits for approval level
        <b>${escapeHtml(approval?.levelName ?? '')}</b> (${approval?.state ?? '?'}).</p>
        <form method="post" action="${action}"><input type="hidden" name="decision" value="approve"><button>Approve</button></form>
        <form method="post" action="${action}"><input type="hidden" name="decision" value="reject"><button>Reject</button></form>`;
      return reply.type('text/html; charset=utf-8').send(page('Approval', body));
    });

    app.post('/approve/:token', {
      schema: {
        tags: ['workflow'], summary: 'Decide through a signed, single-use approval link', security: [], params: tokenParams,
        body: z.object({ decision: z.enum(['approve', 'reject']), comment: z.string().max(1000).optional() }),
        response: { 200: approvalView, ...problemResponses(400, 403, 409, 410) },
      },
    }, async (request) => {
      const em = requestEm(request);
      if (!deps.box) throw new HttpProblem(503, 'unavailable', 'Service unavailable', 'approval links need the master key');
      try {
        const decided = await em.transactional(async (tx) => {
          const now = new Date();
          const link = await openApprovalLink(tx, deps.box!, request.params.token, now);
          const [token] = await tx.execute<{ id: string; name: string; role: string; revoked_at: string | null }[]>(
            'select id, name, role, revoked_at from admin_tokens where id::text = ?', [link.approverTokenId]);
          if (!token || token.revoked_at) throw new ApprovalLinkError('the approver of this link no longer has access');
          const result = await decide(tx, deps.subjects, {
            approvalId: link.approvalRequestId, approver: { tokenId: token.id, name: token.name, role: token.role },
            decision: request.body.decision, comment: request.body.comment, via: 'link',
          }, now);
          link.usedAt = now;
          await tx.flush();
          return result;
        });
        kickOutbox();
        return (await approvalsOf(em, { runId: decided.runId })).find((a) => a.id === decided.id)!;
      } catch (err) {
        if (err instanceof ApprovalLinkError) throw new HttpProblem(410, 'gone', 'Link not usable', err.message);
        if (err instanceof ApprovalRefusedError) throw refusal(err);
        throw err;
      }
    });
  };
}

function page(title: string, body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>certflow — ${escapeHtml(title)}</title></head><body><h1>certflow</h1>${body}</body></html>`;
}
