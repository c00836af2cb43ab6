// Every JetStream stream and subject name of certflow, in one place. All carry the installation's prefix
// so several installations (or test runs) can share one NATS server.

export interface Subjects {
  /** Work-queue stream for workflow stage work. */
  workStream: string;
  work(stage: string): string;
  /** Stream of events (notifications, live UI). */
  eventStream: string;
  event(kind: string): string;
  /** Wake-up for the replica that holds an agent's stream: "there is a job for agent X". */
  agentWake(agentId: string): string;
}

export function subjects(prefix: string): Subjects {
  return {
    workStream: `${prefix}_work`,
    work: (stage) => `${prefix}.work.${stage}`,
    eventStream: `${prefix}_events`,
    event: (kind) => `${prefix}.events.${kind}`,
    agentWake: (agentId) => `${prefix}.agent.${agentId}.wake`,
  };
}
