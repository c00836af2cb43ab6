import { defineEntity, type InferEntity } from '@mikro-orm/postgresql';
import { Agent } from './agent.js';

export const AGENT_JOB_KINDS = ['rescan', 'configureNetworkScan', 'makeCsr', 'deploy', 'validate', 'rollback', 'http01Challenge', 'exportKey'] as const;
export type AgentJobKind = (typeof AGENT_JOB_KINDS)[number];
export const AGENT_JOB_STATES = ['pending', 'sent', 'succeeded', 'failed'] as const;
export type AgentJobState = (typeof AGENT_JOB_STATES)[number];

/**
 * Work for one agent. The row is the truth: a NATS message only wakes the replica holding the agent's
 * stream, and an agent that reconnects is sent every job still pending or sent-but-unanswered.
 */
export const AgentJob = defineEntity({
  name: 'AgentJob',
  tableName: 'agent_jobs',
  properties: (p) => ({
    id: p.uuid().primary(),
    agent: p.manyToOne(Agent).mapToPk().deleteRule('cascade'),
    kind: p.enum([...AGENT_JOB_KINDS]),
    payload: p.json<Record<string, unknown>>(),
    state: p.enum([...AGENT_JOB_STATES]),
    requestedBy: p.string(),
    createdAt: p.datetime(),
    sentAt: p.datetime().nullable(),
    finishedAt: p.datetime().nullable(),
    error: p.text().nullable(),
    /** What the job produced (e.g. a CSR and its key id); never key material. */
    result: p.json<Record<string, unknown>>().nullable(),
    /** The workflow run and stage waiting for this job: its answer wakes that stage. */
    runId: p.uuid().nullable(),
    runStage: p.string().nullable(),
  }),
  indexes: [{ properties: ['agent', 'state'] }],
});
export type AgentJob = InferEntity<typeof AgentJob>;
