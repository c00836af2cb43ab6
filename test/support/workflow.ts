// Helpers for workflow tests: a controller tuned to act in milliseconds instead of seconds, templates,
// tokens, managed certificates, and waiting for a run to reach a state.
import type { ControllerProcess } from './processes.js';
import { eventually } from './processes.js';

/** Controller settings that make the scheduler, watchdog and retries fast enough for tests. */
export const FAST_WORKFLOW_ENV: Record<string, string> = {
  CERTFLOW_SCHEDULER_INTERVAL_SECONDS: '0.3',
  CERTFLOW_WORKFLOW_TICK_MS: '200',
  CERTFLOW_WORKFLOW_ACK_WAIT_SECONDS: '4',
  CERTFLOW_STAGE_RETRY_DELAY_SECONDS: '0.3',
  CERTFLOW_STAGE_TIMEOUT_SECONDS: '30',
};

export async function apiJson<T>(controller: ControllerProcess, path: string, init: RequestInit & { token?: string } = {}, expectStatus?: number): Promise<T> {
  const response = await controller.api(path, init);
  const text = await response.text();
  if (expectStatus !== undefined && response.status !== expectStatus) {
    throw new Error(`${init.method ?? 'GET'} ${path}: expected ${expectStatus}, got ${response.status}: ${text}`);
  }
  return (text ? JSON.parse(text) : null) as T;
}

export async function createToken(controller: ControllerProcess, name: string, role: string): Promise<{ id: string; token: string }> {
  return apiJson(controller, '/api/v1/admin-tokens', { method: 'POST', body: JSON.stringify({ name, role }) }, 201);
}

export async function createTemplate(controller: ControllerProcess, name: string, document: Record<string, unknown>): Promise<{ id: string }> {
  return apiJson(controller, '/api/v1/templates', { method: 'POST', body: JSON.stringify({ name, document }) }, 201);
}

export interface RunView {
  id: string;
  state: string;
  currentStage: string;
  error: string | null;
  stages: { stage: string; state: string; attempts: number; elapsedMs: number | null; activeMs: number; error: string | null; output: Record<string, unknown> | null }[];
  approvals: { id: string; level: number; levelName: string; state: string }[];
}

export async function latestRun(controller: ControllerProcess, managedId: string): Promise<RunView | null> {
  const page = await apiJson<{ items: { id: string }[] }>(controller, `/api/v1/runs?managedCertificate=${managedId}&limit=1`);
  if (!page.items[0]) return null;
  return apiJson<RunView>(controller, `/api/v1/runs/${page.items[0].id}`);
}

export async function waitForRun(controller: ControllerProcess, managedId: string, states: string[], timeoutMs = 60_000): Promise<RunView> {
  return eventually(async () => {
    const run = await latestRun(controller, managedId);
    return run && states.includes(run.state) ? run : null;
  }, timeoutMs, `a run of ${managedId} in state ${states.join('|')}`);
}
