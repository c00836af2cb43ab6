// At most N orders at once against one CA from this process (its config's maxConcurrentOrders); the
// rest wait in line, first come first served. Keeps a burst of renewals from tripping the CA's limits.
const lines = new Map<string, { running: number; waiting: (() => void)[] }>();

export async function withOrderSlot<T>(caId: string, max: number, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  let line = lines.get(caId);
  if (!line) lines.set(caId, (line = { running: 0, waiting: [] }));
  const l = line;
  if (l.running >= max) {
    await new Promise<void>((resolve, reject) => {
      const go = () => {
        signal?.removeEventListener('abort', abort);
        resolve();
      };
      const abort = () => {
        l.waiting.splice(l.waiting.indexOf(go), 1);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', abort, { once: true });
      l.waiting.push(go);
    });
  } else {
    l.running++;
  }
  try {
    return await fn();
  } finally {
    // The slot passes straight to the next in line (running stays the same), or is freed.
    const next = l.waiting.shift();
    if (next) next();
    else l.running--;
  }
}
