// The child processes of discovery.bench.ts, so each measurement has a process (and a peak RSS) of its own:
//   scan ROOT        the agent's scanner: a first scan, then an unchanged rescan with the same cache
//   floor LIST_FILE  the least any scanner must do: read each certificate file, parse each certificate
//   idle             the agent's scanner modules loaded, then nothing
// Each prints one JSON line on stdout (idle prints "ready").
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pkcs7Certificates } from '../../agent/src/discovery/pkcs7.js';

const [mode, argument] = process.argv.slice(2);
const maxRssMiB = () => Math.round(process.resourceUsage().maxRSS / 1024);
// CPU time as well as wall time: on a busy machine the wall clock also measures the neighbours.
const cpuMs = (since: NodeJS.CpuUsage) => {
  const { user, system } = process.cpuUsage(since);
  return (user + system) / 1000;
};

if (mode === 'scan') {
  const { scanPaths } = await import('../../agent/src/discovery/file-scanner.js');
  const { createScanCache } = await import('../../agent/src/discovery/scan-cache.js');
  const cache = createScanCache();
  const run = async (readFacts = false) => {
    const counts = { certificate: 0, problem: 0, skipped: 0, keystore: 0, withKey: 0 };
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    for await (const event of scanPaths([argument], readFacts ? {} : { cache })) {
      counts[event.type]++;
      if (event.type === 'certificate' && event.keyPath !== null) counts.withKey++;
      // What `certflow-agent scan` does: every field of every certificate's facts is read.
      if (readFacts && event.type === 'certificate') void event.facts.selfSigned;
    }
    return { ms: performance.now() - started, cpuMs: cpuMs(cpuStarted), ...counts };
  };
  const first = await run();
  const firstMaxRssMiB = maxRssMiB();
  const files = cache.misses;
  // An agent rescans minutes later, its garbage long collected: each rescan follows a full collection and a
  // pause (run with --expose-gc), so it does not pay for the previous scan's garbage.
  const rescans: Awaited<ReturnType<typeof run>>[] = [];
  for (let i = 0; i < 3; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((resolve) => setTimeout(resolve, 200));
    rescans.push(await run());
  }
  const withFacts = await run(true);
  console.log(JSON.stringify({ first, rescans, withFacts, files, rescanHits: cache.hits / rescans.length, firstMaxRssMiB, maxRssMiB: maxRssMiB() }));
} else if (mode === 'floor') {
  const paths = JSON.parse(readFileSync(argument, 'utf8')) as string[];
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  let certificates = 0;
  const parse = (der: Buffer) => {
    new X509Certificate(der);
    certificates++;
  };
  for (const path of paths) {
    const bytes = readFileSync(path);
    if (bytes[0] !== 0x30) {
      // PEM: certificate blocks straight to the parser; a PKCS#7 block needs its certificates cut out first.
      for (const [, label, body] of bytes.toString('latin1').matchAll(/-----BEGIN ([A-Z0-9 ]+)-----([^-]*)-----END/g)) {
        if (label === 'CERTIFICATE') parse(Buffer.from(body, 'base64'));
        else if (label === 'PKCS7') pkcs7Certificates(Buffer.from(body, 'base64')).forEach(parse);
      }
    } else if (bytes[1] === 0x82 && bytes[4] === 0x06) {
      pkcs7Certificates(bytes).forEach(parse);
    } else {
      parse(bytes);
    }
  }
  console.log(JSON.stringify({ ms: performance.now() - started, cpuMs: cpuMs(cpuStarted), files: paths.length, certificates, maxRssMiB: maxRssMiB() }));
} else if (mode === 'idle') {
  await import('../../agent/src/discovery/file-scanner.js');
  console.log('ready');
  setTimeout(() => undefined, 1e9);
} else {
  console.error('usage: discovery-child.ts scan ROOT | floor LIST_FILE | idle');
  process.exit(2);
}
