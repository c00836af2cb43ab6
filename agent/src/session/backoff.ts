// Reconnect delays with "full jitter": a random delay up to an exponentially growing cap, so a fleet of
// agents that lost the controller at the same moment does not come back at the same moment.
export function reconnectDelayMs(attempt: number, random = Math.random, baseMs = 1000, maxMs = 60_000): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 16));
  return Math.round(baseMs / 2 + random() * (cap - baseMs / 2));
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
