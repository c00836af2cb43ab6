// select-ca's health checks, shared between runs: when hundreds of runs reach select-ca together they
// would otherwise each ask the CA for its directory and account (more requests than the issuing itself).
// Runs checking the same CA at the same moment share the check in flight, and a healthy answer stands
// for HEALTHY_FOR_MS. An unhealthy answer is not kept: the next run asks again, so a CA that is back is
// used at once, and a CA that just failed is never trusted on an old answer for longer than that window.
import type { HealthCheckedIssuer } from '../issuers/issuer.js';

const HEALTHY_FOR_MS = 500;

type Health = Awaited<ReturnType<HealthCheckedIssuer['health']>>;

const inFlight = new Map<string, Promise<Health>>();
const healthyUntil = new Map<string, { until: number; health: Health }>();

export async function sharedHealth(ca: string, issuer: Pick<HealthCheckedIssuer, 'health'>, signal?: AbortSignal, now = Date.now()): Promise<Health> {
  const recent = healthyUntil.get(ca);
  if (recent && recent.until > now) return recent.health;
  let pending = inFlight.get(ca);
  if (!pending) {
    // Not tied to one run's signal: other runs wait on it too (the issuer's own timeouts bound it).
    pending = issuer.health().finally(() => inFlight.delete(ca));
    inFlight.set(ca, pending);
  }
  const health = await abortable(pending, signal);
  if (health.healthy) healthyUntil.set(ca, { until: Date.now() + HEALTHY_FOR_MS, health });
  else healthyUntil.delete(ca);
  return health;
}

function abortable<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason ?? new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
