// Range scanning without a network: every scan here goes through a probe function that records its target
// and answers at once, so the guarantees (listed ranges only, size refused not cut, rate and concurrency)
// are checked on exactly what would have been connected to. The ranges scanned are loopback anyway.
import { describe, expect, it } from 'vitest';
import {
  expandRanges,
  InvalidCidrError,
  parseAddress,
  parseCidr,
  scanRanges,
  TooManyAddressesError,
  type ProbeFunction,
  type ProbeTarget,
  type TlsProbeOptions,
  type TlsProbeResult,
} from '../../agent/src/discovery/endpoints/index.js';

function refused(target: ProbeTarget): TlsProbeResult {
  return { host: target.host, port: target.port, serverName: null, ok: false, error: 'refused' };
}

/** A probe that records every target (and its start time) and answers after `delayMs(target)`. */
function recordingProbe(delayMs: (target: ProbeTarget) => number = () => 0) {
  const calls: { target: ProbeTarget; at: number; options: TlsProbeOptions }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const probe: ProbeFunction = async (target, options) => {
    calls.push({ target, at: performance.now(), options });
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    try {
      await new Promise((resolve) => setTimeout(resolve, delayMs(target)));
      return refused(target);
    } finally {
      inFlight--;
    }
  };
  return { probe, calls, maxInFlight: () => maxInFlight };
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function collect(results: AsyncIterable<TlsProbeResult>): Promise<TlsProbeResult[]> {
  const all: TlsProbeResult[] = [];
  for await (const result of results) all.push(result);
  return all;
}

describe('parseCidr', () => {
  it('reads IPv4 ranges and single addresses', () => {
    expect(parseCidr('10.0.0.0/24')).toEqual({ family: 4, prefixLength: 24, first: 0x0a000000n, last: 0x0a0000ffn });
    expect(parseCidr('127.0.0.1/32')).toEqual({ family: 4, prefixLength: 32, first: 0x7f000001n, last: 0x7f000001n });
    expect(parseCidr('192.0.2.7')).toMatchObject({ prefixLength: 32, first: 0xc0000207n, last: 0xc0000207n });
    expect(parseCidr(' 0.0.0.0/0 ')).toMatchObject({ first: 0n, last: 0xffffffffn });
  });

  it('reads IPv6 ranges, compressed or with an embedded IPv4 address', () => {
    expect(parseCidr('::1/128')).toEqual({ family: 6, prefixLength: 128, first: 1n, last: 1n });
    expect(parseCidr('::1')).toMatchObject({ family: 6, first: 1n, last: 1n });
    expect(parseCidr('2001:db8::/126')).toMatchObject({ first: 0x20010db8n << 96n, last: (0x20010db8n << 96n) | 3n });
    expect(parseCidr('::ffff:192.0.2.1')).toMatchObject({ first: 0xffffc0000201n });
    expect(parseCidr('2001:DB8:0:0:0:0:0:1').first).toBe(parseCidr('2001:db8::1').first);
  });

  it.each([
    ['', 'is not an IPv4 or IPv6 address'],
    ['example.com/24', 'is not an IPv4 or IPv6 address'],
    ['256.0.0.1', 'is not an IPv4 or IPv6 address'],
    ['10.0.0', 'is not an IPv4 or IPv6 address'],
    ['010.0.0.1', 'is not an IPv4 or IPv6 address'],
    ['fe80::1%eth0', 'is not an IPv4 or IPv6 address'],
    ['2001:db8::g', 'is not an IPv4 or IPv6 address'],
    ['10.0.0.0/33', 'prefix length must be a number from 0 to 32'],
    ['10.0.0.0/', 'prefix length must be a number from 0 to 32'],
    ['10.0.0.0/-1', 'prefix length must be a number from 0 to 32'],
    ['10.0.0.0/024', 'prefix length must be a number from 0 to 32'],
    ['10.0.0.0/24/8', 'prefix length must be a number from 0 to 32'],
    ['::/129', 'prefix length must be a number from 0 to 128'],
    ['10.0.0.5/24', 'host bits are set (did you mean 10.0.0.0/24?)'],
    ['2001:db8::1/64', 'host bits are set (did you mean 2001:db8::/64?)'],
  ])('refuses %j with an error naming it', (text, reason) => {
    let error: unknown;
    try {
      parseCidr(text);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidCidrError);
    expect((error as InvalidCidrError).text).toBe(text);
    expect((error as Error).message).toMatch(new RegExp(`^invalid address range "${escape(text)}": .*${escape(reason)}$`));
  });
});

describe('expandRanges', () => {
  it('lists every address once, in order, with overlapping ranges merged', () => {
    const expanded = expandRanges(['127.0.0.2/31', '127.0.0.0/30', '::1', '127.0.0.9'], 10);
    expect(expanded.size).toBe(6);
    expect([...expanded]).toEqual(['127.0.0.0', '127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.9', '::1']);
  });

  it('accepts ranges holding exactly the maximum', () => {
    expect([...expandRanges(['10.1.0.0/24'], 256)]).toHaveLength(256);
    expect(expandRanges([], 0).size).toBe(0);
  });

  it('refuses ranges holding more than the maximum, saying how many they hold', () => {
    expect(() => expandRanges(['10.1.0.0/24'], 255)).toThrow(TooManyAddressesError);
    try {
      expandRanges(['10.0.0.0/8', '192.0.2.0/24'], 65_536);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(TooManyAddressesError);
      expect((err as TooManyAddressesError).count).toBe(16_777_472n);
      expect((err as Error).message).toContain('16777472 addresses, more than the configured maximum of 65536');
    }
  });

  it('counts an IPv6 /64 without enumerating it', () => {
    expect(() => expandRanges(['2001:db8::/64'], 1_000_000)).toThrow('18446744073709551616 addresses');
  });

  it('refuses a maximum that is not a non-negative integer', () => {
    expect(() => expandRanges(['127.0.0.1'], -1)).toThrow(RangeError);
    expect(() => expandRanges(['127.0.0.1'], 1.5)).toThrow(RangeError);
  });
});

describe('scanRanges', () => {
  it('connects only to addresses inside the listed ranges, each port of each address once', async () => {
    const ranges = ['127.0.0.0/30', '127.0.1.8/31', '::1/128'];
    const recorder = recordingProbe();
    const results = await collect(scanRanges({ ranges, ports: [443, 8443, 443], maxAddresses: 16, ratePerSecond: 1_000, probe: recorder.probe }));

    const targets = recorder.calls.map(({ target }) => `${target.host} ${target.port}`);
    const addresses = ['127.0.0.0', '127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.1.8', '127.0.1.9', '::1'];
    expect(targets.sort()).toEqual(addresses.flatMap((a) => [`${a} 443`, `${a} 8443`]).sort());
    // Checked again against the ranges as parsed on their own, not against the scanner's own expansion.
    const parsed = ranges.map(parseCidr);
    for (const { target } of recorder.calls) {
      const address = parseAddress(target.host)!;
      expect(parsed.some((r) => r.family === address.family && r.first <= address.value && address.value <= r.last)).toBe(true);
      expect(target.serverName).toBeUndefined();
    }
    expect(results).toHaveLength(14);
    expect(results.every((r) => !r.ok && r.error === 'refused')).toBe(true);
  });

  it('refuses an oversized or invalid assignment before connecting to anything', () => {
    const recorder = recordingProbe();
    expect(() => scanRanges({ ranges: ['127.0.0.0/8'], ports: [443], maxAddresses: 1_000, probe: recorder.probe })).toThrow(TooManyAddressesError);
    expect(() => scanRanges({ ranges: ['127.0.0.1', '127.0.0.300'], ports: [443], maxAddresses: 10, probe: recorder.probe })).toThrow(InvalidCidrError);
    expect(() => scanRanges({ ranges: ['127.0.0.1'], ports: [0], maxAddresses: 10, probe: recorder.probe })).toThrow('not a TCP port: 0');
    expect(() => scanRanges({ ranges: ['127.0.0.1'], ports: [443], maxAddresses: 10, ratePerSecond: 0, probe: recorder.probe })).toThrow(RangeError);
    expect(recorder.calls).toHaveLength(0);
  });

  it('starts N connections at rate R no faster than (N - burst) / R seconds', async () => {
    const recorder = recordingProbe();
    const [n, rate, burst] = [12, 20, 2];
    const started = performance.now();
    await collect(scanRanges({ ranges: ['127.0.0.0/30'], ports: [1, 2, 3], maxAddresses: 4, ratePerSecond: rate, burst, probe: recorder.probe }));
    const elapsedSeconds = (performance.now() - started) / 1000;

    expect(recorder.calls).toHaveLength(n);
    // Loose on purpose: timers may fire a little early or late; only the lower bound is the guarantee.
    expect(elapsedSeconds).toBeGreaterThanOrEqual(((n - burst) / rate) * 0.9);
    // The burst goes out at once, the rest one at a time.
    expect(recorder.calls[burst - 1].at - recorder.calls[0].at).toBeLessThan(40);
  });

  it('never has more probes in flight than the concurrency cap', async () => {
    const recorder = recordingProbe(() => 30);
    await collect(scanRanges({ ranges: ['127.0.0.0/29'], ports: [443, 8443], maxAddresses: 8, ratePerSecond: 10_000, burst: 100, concurrency: 3, probe: recorder.probe }));
    expect(recorder.calls).toHaveLength(16);
    expect(recorder.maxInFlight()).toBe(3);
  });

  it('yields results as they complete, not in target order', async () => {
    const recorder = recordingProbe((target) => (target.host === '127.0.0.1' ? 300 : 10));
    const results = await collect(scanRanges({ ranges: ['127.0.0.1', '127.0.0.2'], ports: [443], maxAddresses: 2, probe: recorder.probe }));
    expect(results.map((r) => r.host)).toEqual(['127.0.0.2', '127.0.0.1']);
  });

  it('aborts the probes still in flight when the consumer stops early', async () => {
    const recorder = recordingProbe((target) => (target.host === '127.0.0.1' ? 10 : 60_000));
    const signals: AbortSignal[] = [];
    const probe: ProbeFunction = (target, options) => {
      signals.push(options.signal!);
      // Like probeTls: rejects with the abort reason once aborted.
      return Promise.race([
        recorder.probe(target, options),
        new Promise<never>((_, reject) => options.signal!.addEventListener('abort', () => reject(options.signal!.reason))),
      ]);
    };
    for await (const result of scanRanges({ ranges: ['127.0.0.1', '127.0.0.2', '127.0.0.3'], ports: [443], maxAddresses: 3, probe })) {
      expect(result.host).toBe('127.0.0.1');
      break;
    }
    expect(signals.length).toBeGreaterThan(1);
    expect(signals.every((s) => s.aborted)).toBe(true);
  });

  it('stops with the abort reason when the agent shuts down', async () => {
    const controller = new AbortController();
    const probe: ProbeFunction = (_target, options) => new Promise((_, reject) => {
      options.signal!.addEventListener('abort', () => reject(options.signal!.reason));
    });
    setTimeout(() => controller.abort(new Error('shutting down')), 20);
    await expect(collect(scanRanges({ ranges: ['127.0.0.1'], ports: [443], maxAddresses: 1, signal: controller.signal, probe })))
      .rejects.toThrow('shutting down');
  });

  it('passes on a probe failure instead of swallowing it', async () => {
    const probe: ProbeFunction = () => Promise.reject(new Error('probe bug'));
    await expect(collect(scanRanges({ ranges: ['127.0.0.1'], ports: [443], maxAddresses: 1, probe }))).rejects.toThrow('probe bug');
  });
});
