// The agents whose streams this replica holds. One session per agent: a new Connect from the same agent
// replaces the old one (the old stream is ended). A NATS subscription on the agents' wake subject tells
// the replica holding an agent that it has new jobs; replicas that don't hold it ignore the message.
import type { NatsConnection, Subscription } from 'nats';
import type { Subjects } from '../messaging/subjects.js';

export interface HeldSession {
  agentId: string;
  /** Sends the agent's pending jobs now. */
  deliverJobs(): Promise<void>;
  /** Ends the stream (replaced by a newer session, or shutdown). */
  close(reason: string): void;
}

export class SessionRegistry {
  private sessions = new Map<string, HeldSession>();
  private subscription: Subscription | null = null;

  get size(): number {
    return this.sessions.size;
  }

  has(agentId: string): boolean {
    return this.sessions.has(agentId);
  }

  add(session: HeldSession): void {
    const previous = this.sessions.get(session.agentId);
    this.sessions.set(session.agentId, session);
    previous?.close('replaced by a newer session of the same agent');
  }

  remove(session: HeldSession): void {
    if (this.sessions.get(session.agentId) === session) this.sessions.delete(session.agentId);
  }

  listenForWakeUps(nc: NatsConnection, subjects: Subjects, onError: (err: unknown) => void): void {
    this.subscription = nc.subscribe(subjects.agentWake('*'));
    const tokenIndex = subjects.agentWake('X').split('.').indexOf('X');
    void (async () => {
      for await (const message of this.subscription!) {
        const agentId = message.subject.split('.')[tokenIndex];
        this.sessions.get(agentId)?.deliverJobs().catch(onError);
      }
    })();
  }

  closeAll(reason: string): void {
    this.subscription?.unsubscribe();
    for (const session of this.sessions.values()) session.close(reason);
    this.sessions.clear();
  }
}
