// A process-local "look now" signal: code that just committed rows a background worker handles (the
// outbox relay, the audit sequencer) tells it so, and the worker need not wait for its poll. Losing a
// signal only delays the work until that poll.
export interface ProcessSignal {
  /** Calls `listener` on every fire; returns the function that stops it. */
  on(listener: () => void): () => void;
  fire(): void;
}

export function createProcessSignal(): ProcessSignal {
  const listeners = new Set<() => void>();
  return {
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    fire() {
      for (const listener of listeners) listener();
    },
  };
}
