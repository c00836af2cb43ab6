// Workflow runs: list, show (stages with timings, attempts, outputs, errors; approvals), and an
// operator's actions: cancel, retry the failed stage, and under a manual rollback policy roll back or accept.
import type { FastifyInstance } from 'fastify';
import type { Subjects } from '../../messaging/subjects.js';
import { kickOutbox } from '../../workflow/outbox.js';
import { cancelRun, resolveWaitingRun, retryRun, RunActionError } from '../../workflow/runs.js';
import { principalOf, requestEm, requirePermission } from '../auth.js';
import { HttpProblem, notFound, problemResponses } from '../problem.js';
import { idParams } from '../schemas.js';
import { listRunsQuery, runDetail, runPage } from '../workflow-schemas.js';
import { RUN_SELECT, runDetailOf, runSummaryOf, type RunRow } from '../workflow-views.js';
import type { ZodTypeProvider } from '../zod-compiler.js';
import { FINISHED_RUN_STATES_SQL } from '../../db/entities/workflow-run.js';


export function runRoutes(deps: { subjects: Subjects }) {
  return async (instance: FastifyInstance): Promise<void> => {
    const app = instance.withTypeProvider<ZodTypeProvider>();

    app.get('/api/v1/runs', {
      onRequest: requirePermission('read'),
      schema: { tags: ['workflow'], summary: 'Workflow runs, newest first', querystring: listRunsQuery, response: { 200: runPage, ...problemResponses(400, 401, 403) } },
    }, async (request) => {
      const { state, active, managedCertificate, limit, offset } = request.query;
      const where: string[] = [];
      const params: unknown[] = [];
      if (state) { where.push('r.state = ?'); params.push(state); }
      if (active === 'true') where.push(`r.state not in ${FINISHED_RUN_STATES_SQL}`);
      if (active === 'false') where.push(`r.state in ${FINISHED_RUN_STATES_SQL}`);
      if (managedCertificate) { where.push('r.managed_certificate_id = ?'); params.push(managedCertificate); }
      const clause = where.length ? ` where ${where.join(' and ')}` : '';
      const em = requestEm(request);
      const rows = await em.execute<RunRow[]>(`${RUN_SELECT}${clause} order by r.created_at desc, r.id limit ? offset ?`, [...params, limit, offset]);
      const [{ total }] = await em.execute<{ total: string }[]>(`select count(*) as total from workflow_runs r${clause}`, params) as [{ total: string }];
      return { items: rows.map(runSummaryOf), total: Number(total), limit, offset };
    });

    app.get('/api/v1/runs/:id', {
      onRequest: requirePermission('read'),
      schema: { tags: ['workflow'], summary: 'One run with its stages and approvals', params: idParams, response: { 200: runDetail, ...problemResponses(400, 401, 403, 404) } },
    }, async (request) => {
      const em = requestEm(request);
      const [row] = await em.execute<RunRow[]>(`${RUN_SELECT} where r.id = ?`, [request.params.id]);
      if (!row) throw notFound(`no run with id ${request.params.id}`);
      return runDetailOf(em, row);
    });

    const action = (path: string, summary: string, act: (tx: Parameters<Parameters<ReturnType<typeof requestEm>['transactional']>[0]>[0], runId: string, actor: string) => Promise<unknown>) => {
      app.post(`/api/v1/runs/:id/${path}`, {
        onRequest: requirePermission('manage-certificates'),
        schema: { tags: ['workflow'], summary, params: idParams, response: { 200: runDetail, ...problemResponses(400, 401, 403, 404, 409) } },
      }, async (request) => {
        const em = requestEm(request);
        try {
          await em.transactional((tx) => act(tx, request.params.id, principalOf(request).tokenId));
        } catch (err) {
          if (err instanceof RunActionError) throw err.status === 404 ? notFound(err.message) : new HttpProblem(409, 'conflict', 'Conflict', err.message);
          throw err;
        }
        kickOutbox();
        const [row] = await em.execute<RunRow[]>(`${RUN_SELECT} where r.id = ?`, [request.params.id]);
        return runDetailOf(em, row!);
      });
    };
    action('cancel', 'Cancel an active run', (tx, id, actor) => cancelRun(tx, deps.subjects, id, actor, new Date()));
    action('retry', 'Retry the stage a run failed or stopped in', (tx, id, actor) => retryRun(tx, deps.subjects, id, actor, new Date()));
    action('rollback', 'Manual rollback policy: roll back a run waiting for an operator', (tx, id, actor) => resolveWaitingRun(tx, deps.subjects, id, 'rollback', actor, new Date()));
    action('accept', 'Manual rollback policy: accept the failure and leave the targets as they are', (tx, id, actor) => resolveWaitingRun(tx, deps.subjects, id, 'accept', actor, new Date()));
  };
}
