// Scans the CIDR ranges and ports an operator assigned to this agent. Three promises, each enforced here:
// only addresses inside the listed ranges are ever connected to (checked again just before each connect);
// a range larger than the configured maximum is refused with its size, never silently cut short; and new
// connections are paced by a token bucket and capped in number, so a scan cannot flood a network.
import { isIPv6 } from 'node:net';
import { probeTls, type ProbeFunction, type ProbeTarget, type TlsProbeResult } from './tls-probe.js';

export type IpFamily = 4 | 6;

export interface CidrRange {
  family: IpFamily;
  prefixLength: number;
  /** First and last address of the range, as integers. */
  first: bigint;
  last: bigint;
}

export class InvalidCidrError extends Error {
  override name = 'InvalidCidrError';
  constructor(readonly text: string, reason: string) {
    super(`invalid address range "${text}": ${reason}`);
  }
}

export class TooManyAddressesError extends Error {
  override name = 'TooManyAddressesError';
  constructor(readonly count: bigint, readonly maxAddresses: number) {
    super(`the ranges hold ${count} addresses, more than the configured maximum of ${maxAddresses}; ` +
      'assign smaller ranges or raise the maximum');
  }
}

const BITS: Record<IpFamily, number> = { 4: 32, 6: 128 };
// Leading zeros are refused: "010" is 10 to some parsers and 8 (octal) to others.
const DECIMAL = /^(0|[1-9][0-9]*)$/;

/** `10.0.0.0/24`, `::1/128`, or a single address. Host bits must be zero, so a typo cannot widen a range. */
export function parseCidr(text: string): CidrRange {
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const addressText = slash === -1 ? trimmed : trimmed.slice(0, slash);
  const address = parseAddress(addressText);
  if (address === null) throw new InvalidCidrError(text, `"${addressText}" is not an IPv4 or IPv6 address`);
  const bits = BITS[address.family];
  let prefixLength = bits;
  if (slash !== -1) {
    const prefixText = trimmed.slice(slash + 1);
    prefixLength = DECIMAL.test(prefixText) ? Number(prefixText) : NaN;
    if (!(prefixLength <= bits)) throw new InvalidCidrError(text, `the prefix length must be a number from 0 to ${bits}`);
  }
  const hostMask = (1n << BigInt(bits - prefixLength)) - 1n;
  if ((address.value & hostMask) !== 0n) {
    const network = formatAddress(address.value & ~hostMask, address.family);
    throw new InvalidCidrError(text, `host bits are set (did you mean ${network}/${prefixLength}?)`);
  }
  return { family: address.family, prefixLength, first: address.value, last: address.value | hostMask };
}

/** The addresses of the ranges, overlaps counted once, produced lazily; `size` is known up front. */
export interface ExpandedRanges extends Iterable<string> {
  readonly size: number;
  /** Sorted, overlaps merged. */
  readonly ranges: readonly CidrRange[];
  includes(address: string): boolean;
}

export function expandRanges(ranges: string[], maxAddresses: number): ExpandedRanges {
  if (!Number.isSafeInteger(maxAddresses) || maxAddresses < 0) {
    throw new RangeError(`maxAddresses must be a non-negative integer, not ${maxAddresses}`);
  }
  const merged = mergeRanges(ranges.map(parseCidr));
  const count = merged.reduce((sum, range) => sum + range.last - range.first + 1n, 0n);
  if (count > BigInt(maxAddresses)) throw new TooManyAddressesError(count, maxAddresses);
  return {
    size: Number(count),
    ranges: merged,
    includes: (address) => {
      const parsed = parseAddress(address);
      return parsed !== null && merged.some((r) => r.family === parsed.family && r.first <= parsed.value && parsed.value <= r.last);
    },
    *[Symbol.iterator]() {
      for (const range of merged) {
        for (let value = range.first; value <= range.last; value++) yield formatAddress(value, range.family);
      }
    },
  };
}

function mergeRanges(ranges: CidrRange[]): CidrRange[] {
  const sorted = [...ranges].sort((a, b) => a.family - b.family || (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const merged: CidrRange[] = [];
  for (const range of sorted) {
    const previous = merged.at(-1);
    if (previous && previous.family === range.family && range.first <= previous.last + 1n) {
      // The merged span may no longer be a CIDR block; prefixLength then keeps the widest part's.
      if (range.last > previous.last) previous.last = range.last;
      previous.prefixLength = Math.min(previous.prefixLength, range.prefixLength);
    } else {
      merged.push({ ...range });
    }
  }
  return merged;
}

export function parseAddress(text: string): { family: IpFamily; value: bigint } | null {
  const v4 = parseIpv4(text);
  if (v4 !== null) return { family: 4, value: v4 };
  const v6 = parseIpv6(text);
  return v6 === null ? null : { family: 6, value: v6 };
}

function parseIpv4(text: string): bigint | null {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => DECIMAL.test(p) && Number(p) <= 255)) return null;
  return parts.reduce((value, part) => (value << 8n) | BigInt(part), 0n);
}

function parseIpv6(text: string): bigint | null {
  // Zone ids (fe80::1%eth0) name an interface, not an address in a range.
  if (!isIPv6(text) || text.includes('%')) return null;
  let hex = text;
  let embedded = 0n;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    // ::ffff:192.0.2.1 — the last 32 bits written as IPv4.
    const v4 = parseIpv4(text.slice(lastColon + 1));
    if (v4 === null) return null;
    embedded = v4;
    hex = text.slice(0, lastColon + 1) + '0:0';
  }
  const [head, tail] = hex.split('::') as [string, string | undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined
    ? headGroups
    : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  if (groups.length !== 8) return null;
  return groups.reduce((value, group) => (value << 16n) | BigInt(parseInt(group, 16)), 0n) | embedded;
}

/** Dotted quad, or RFC 5952 text (lower case, the first longest run of two or more zero groups as ::). */
export function formatAddress(value: bigint, family: IpFamily): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

export interface RangeScanOptions {
  ranges: string[];
  ports: number[];
  /** Refuse the scan when the ranges hold more addresses than this. */
  maxAddresses: number;
  /** New connections per second (default 50). */
  ratePerSecond?: number;
  /** Connections that may start at once before the rate applies (default 10). */
  burst?: number;
  /** Probes in flight, counting results not yet taken by the consumer (default 32). */
  concurrency?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** probeTls unless given; tests pass one that records every target. */
  probe?: ProbeFunction;
}

export const DEFAULT_RATE_PER_SECOND = 50;
export const DEFAULT_BURST = 10;
export const DEFAULT_CONCURRENCY = 32;

/**
 * Probes every port of every address in the ranges, yielding results as they complete. The ranges, ports
 * and limits are checked when called, so a bad assignment throws before the first connection.
 */
export function scanRanges(options: RangeScanOptions): AsyncGenerator<TlsProbeResult> {
  const addresses = expandRanges(options.ranges, options.maxAddresses);
  const ports = [...new Set(options.ports)];
  const bad = ports.find((p) => !Number.isInteger(p) || p < 1 || p > 65535);
  if (bad !== undefined) throw new RangeError(`not a TCP port: ${bad}`);
  const rate = options.ratePerSecond ?? DEFAULT_RATE_PER_SECOND;
  if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`ratePerSecond must be a positive number, not ${rate}`);
  // Below one token the bucket could never hand one out, and below one probe nothing would run.
  const burst = atLeast('burst', options.burst ?? DEFAULT_BURST, 1);
  const concurrency = Math.floor(atLeast('concurrency', options.concurrency ?? DEFAULT_CONCURRENCY, 1));
  function* targets(): Generator<ProbeTarget> {
    for (const host of addresses) for (const port of ports) yield { host, port };
  }
  return runScan(targets(), addresses, {
    bucket: new TokenBucket(rate, burst),
    concurrency,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    probe: options.probe ?? probeTls,
  });
}

function atLeast(name: string, value: number, minimum: number): number {
  if (!(value >= minimum) || !Number.isFinite(value)) throw new RangeError(`${name} must be a number of at least ${minimum}, not ${value}`);
  return value;
}

type Settled = { id: number; result: TlsProbeResult } | { id: number; error: unknown };

async function* runScan(
  targets: Iterator<ProbeTarget>,
  allowed: ExpandedRanges,
  settings: { bucket: TokenBucket; concurrency: number; timeoutMs?: number; signal?: AbortSignal; probe: ProbeFunction },
): AsyncGenerator<TlsProbeResult> {
  // Ours aborts the probes still in flight when the consumer stops early; theirs when the agent shuts down.
  const stop = new AbortController();
  const signal = settings.signal ? AbortSignal.any([settings.signal, stop.signal]) : stop.signal;
  const pending = new Map<number, Promise<Settled>>();
  let nextId = 0;
  let next = targets.next();
  let tokenWait: Promise<null> | null = null;
  try {
    for (;;) {
      signal.throwIfAborted();
      let tokenInMs = 0;
      while (!next.done && pending.size < settings.concurrency) {
        tokenInMs = settings.bucket.take();
        if (tokenInMs > 0) break;
        const target = next.value;
        if (!allowed.includes(target.host)) throw new Error(`refusing to probe ${target.host}: outside the assigned ranges`);
        const id = nextId++;
        // Settled, never rejected: a probe failing while the consumer is busy must not be an unhandled rejection.
        pending.set(id, settings.probe(target, { timeoutMs: settings.timeoutMs, signal })
          .then((result) => ({ id, result }), (error: unknown) => ({ id, error })));
        next = targets.next();
      }
      if (next.done && pending.size === 0) return;
      const waits: Promise<Settled | null>[] = [...pending.values()];
      if (!next.done && pending.size < settings.concurrency) {
        tokenWait ??= sleep(tokenInMs, signal).then(() => (tokenWait = null));
        waits.push(tokenWait);
      }
      const settled = await Promise.race(waits);
      if (settled === null) continue;
      pending.delete(settled.id);
      if ('error' in settled) throw settled.error;
      yield settled.result;
    }
  } finally {
    stop.abort();
    // Every probe destroys its socket on abort; wait for that so no connection outlives the scan.
    await Promise.all(pending.values());
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    // Resolves on abort too: the loop's throwIfAborted reports the abort, and nothing is left dangling.
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Starts full; refills at `rate` tokens a second up to `burst`. */
class TokenBucket {
  private tokens: number;
  private updatedAt = performance.now();

  constructor(private readonly rate: number, private readonly burst: number) {
    this.tokens = burst;
  }

  /** Takes a token and returns 0, or takes none and returns the milliseconds until one is available. */
  take(): number {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) * this.rate) / 1000);
    this.updatedAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) * 1000) / this.rate);
  }
}
