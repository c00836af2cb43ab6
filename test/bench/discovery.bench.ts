// Discovery: how fast the agent's scanner reads a large tree, against the floor (reading each certificate file
// and parsing each certificate with crypto.X509Certificate, nothing else), how much an unchanged rescan
// saves, and what the scanner costs in memory, busy and idle. Targets from the issue: first scan within
// 1.5x of the floor, unchanged rescan at least 10x faster than the first scan, idle RSS within 1.5x of a
// bare node process.
//
// The tree: BENCH_CERT_FILES certificate files (PEM, DER, PEM bundles, PKCS#7 in PEM and DER, a few PEM
// files with their private key) and as many other files (text and binary). Every certificate occurrence is
// distinct: copies of a few hundred real certificates with their serial numbers rewritten, so nothing can
// be saved by recognising a certificate seen before (a real host repeats its trust store several times;
// this is the harder case). Rewriting breaks signatures, which no scanner checks on issued certificates.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes, webcrypto } from 'node:crypto';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { childrenOf, readElement } from '../../agent/src/discovery/ber.js';
import { privateKeyPem, x509 } from '../../proto/shared/x509.js';
import { days, makeCertificate } from '../support/certificates.js';

const CERT_FILES = Number(process.env.BENCH_CERT_FILES ?? 20_000);
const OTHER_FILES = Number(process.env.BENCH_OTHER_FILES ?? CERT_FILES);
const TEMPLATES = 300;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CHILD = fileURLToPath(new URL('./discovery-child.ts', import.meta.url));

interface Chain { leaf: Buffer; intermediate: Buffer; root: Buffer }

const dir = await mkdtemp(join(tmpdir(), 'certflow-discovery-bench-'));
try {
  let started = performance.now();
  const { chains, keyed } = await makeTemplates();
  console.log(`made ${chains.length} template chains in ${Math.round(performance.now() - started)} ms`);
  started = performance.now();
  const { certificateFiles, occurrences } = writeTree(join(dir, 'tree'), chains, keyed);
  const list = join(dir, 'certificate-files.json');
  writeFileSync(list, JSON.stringify(certificateFiles));
  console.log(`wrote ${CERT_FILES} certificate files (${occurrences} certificates) and ${OTHER_FILES} other files in ${Math.round(performance.now() - started)} ms`);
  started = performance.now();
  const child = compileChild(join(dir, 'compiled'));
  console.log(`compiled the scanner and the child in ${Math.round(performance.now() - started)} ms`);

  // Alternating rounds, best of each: on a shared machine the slowest runs measure the neighbours.
  const floors: FloorResult[] = [];
  const scans: ScanResult[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    floors.push(run<FloorResult>(child, 'floor', list));
    scans.push(run<ScanResult>(child, 'scan', join(dir, 'tree')));
  }
  for (const scan of scans) {
    if (scan.first.certificate !== occurrences || scan.rescans.some((rescan) => rescan.certificate !== occurrences)) {
      throw new Error(`the scan found ${scan.first.certificate} certificates, the tree has ${occurrences}`);
    }
  }
  if (floors.some((floor) => floor.certificates !== occurrences)) throw new Error('the floor parsed a different number of certificates');
  const best = <T>(items: T[], time: (item: T) => number) => Math.min(...items.map(time));
  const floor = { cpuMs: best(floors, (f) => f.cpuMs), ms: best(floors, (f) => f.ms), maxRssMiB: Math.max(...floors.map((f) => f.maxRssMiB)) };
  const first = { cpuMs: best(scans, (s) => s.first.cpuMs), ms: best(scans, (s) => s.first.ms) };
  const rescans = scans.flatMap((s) => s.rescans);
  const rescan = { cpuMs: best(rescans, (r) => r.cpuMs), ms: best(rescans, (r) => r.ms) };
  const withFacts = { cpuMs: best(scans, (s) => s.withFacts.cpuMs), ms: best(scans, (s) => s.withFacts.ms) };
  const { files, first: counts, rescanHits } = scans[0];
  const peakRss = Math.max(...scans.map((s) => s.firstMaxRssMiB));
  const idle = { bareNode: await settledRss(['-e', 'process.stdout.write("ready\\n"); setTimeout(() => {}, 1e9)']), agent: await settledRss([child, 'idle']) };

  const firstRatio = first.cpuMs / floor.cpuMs;
  const rescanSpeedup = first.cpuMs / rescan.cpuMs;
  const idleRatio = idle.agent / idle.bareNode;
  const ms = (value: number) => `${String(Math.round(value)).padStart(6)} ms`;
  const rate = (count: number, value: number) => `${String(Math.round(count / (value / 1000))).padStart(7)}`;
  const verdict = (met: boolean) => (met ? 'met' : 'NOT MET');
  console.log([
    `best of ${ROUNDS} rounds; CPU time (wall time in brackets, which on a busy machine also counts waiting for a core)`,
    `floor: read ${certificateFiles.length} certificate files, X509Certificate on each certificate`,
    `  ${ms(floor.cpuMs)} (${Math.round(floor.ms)})  ${rate(certificateFiles.length, floor.cpuMs)} files/s  ${rate(occurrences, floor.cpuMs)} certificates/s  peak RSS ${floor.maxRssMiB} MiB`,
    `first scan: ${files} files, ${counts.certificate} certificates (${counts.withKey} with their key found), ${counts.problem} problems, ${counts.skipped} skipped`,
    `  ${ms(first.cpuMs)} (${Math.round(first.ms)})  ${rate(files, first.cpuMs)} files/s  ${rate(counts.certificate, first.cpuMs)} certificates/s  peak RSS ${peakRss} MiB`,
    `unchanged rescan (after a full GC, as minutes after a scan): ${rescanHits} of ${files} files from the cache, none read`,
    `  ${ms(rescan.cpuMs)} (${Math.round(rescan.ms)})  ${rate(files, rescan.cpuMs)} files/s`,
    `a scan that reads every certificate's facts, as \`certflow-agent scan\` does (no target; facts are computed on first read)`,
    `  ${ms(withFacts.cpuMs)} (${Math.round(withFacts.ms)})  ${rate(counts.certificate, withFacts.cpuMs)} certificates/s  ${(withFacts.cpuMs / floor.cpuMs).toFixed(2)}x the floor`,
    `idle RSS: bare node ${idle.bareNode} MiB, the agent's scanner loaded ${idle.agent} MiB`,
    '',
    `first scan / floor      ${firstRatio.toFixed(2).padStart(6)}x  target <= 1.5x  ${verdict(firstRatio <= 1.5)}`,
    `first scan / rescan     ${rescanSpeedup.toFixed(1).padStart(6)}x  target >= 10x   ${verdict(rescanSpeedup >= 10)}`,
    `idle agent / bare node  ${idleRatio.toFixed(2).padStart(6)}x  target <= 1.5x  ${verdict(idleRatio <= 1.5)}`,
  ].join('\n'));
} finally {
  await rm(dir, { recursive: true, force: true });
}

interface FloorResult { ms: number; cpuMs: number; files: number; certificates: number; maxRssMiB: number }
interface ScanCounts { ms: number; cpuMs: number; certificate: number; problem: number; skipped: number; keystore: number; withKey: number }
interface ScanResult { first: ScanCounts; rescans: ScanCounts[]; withFacts: ScanCounts; files: number; rescanHits: number; firstMaxRssMiB: number; maxRssMiB: number }

/**
 * The children run compiled JavaScript, as the agent does in production (bin/certflow-agent.js runs
 * dist/), so neither tsx's loader thread nor its transform is measured: with tsx, an idle node process
 * is ~30 MiB larger before loading anything of ours.
 */
function compileChild(outDir: string): string {
  const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const result = spawnSync(process.execPath, [tsc, '--noCheck', '--outDir', outDir, '--rootDir', root, '--module', 'nodenext',
    '--moduleResolution', 'nodenext', '--target', 'ES2023', '--skipLibCheck', '--types', 'node', CHILD], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`tsc failed: ${result.stdout}${result.stderr}`);
  writeFileSync(join(outDir, 'package.json'), '{ "type": "module" }\n');
  // node-forge is loaded only for RC2 keystores, but resolve it as the agent would.
  symlinkSync(join(root, 'node_modules'), join(outDir, 'node_modules'));
  return join(outDir, 'test', 'bench', 'discovery-child.js');
}

function run<T>(child: string, mode: string, argument: string): T {
  const result = spawnSync(process.execPath, ['--expose-gc', child, mode, argument], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (result.status !== 0) throw new Error(`${mode} child failed: ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as T;
}

/** Resident memory of an idle process, read from /proc the same way for each, once it has settled. */
async function settledRss(args: string[]): Promise<number> {
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve, reject) => {
      proc.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
      proc.on('exit', (code) => reject(new Error(`idle child exited with ${code}`)));
    });
    // Let start-up garbage settle: sample until three readings 200 ms apart agree within 1%.
    const readings: number[] = [];
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'));
      readings.push(Number(match?.[1]) / 1024);
      const last = readings.slice(-3);
      if (last.length === 3 && Math.max(...last) - Math.min(...last) <= Math.min(...last) * 0.01) return Math.round(last[2]);
      if (readings.length > 25) return Math.round(readings.at(-1)!);
    }
  } finally {
    proc.kill();
  }
}

async function makeTemplates(): Promise<{ chains: Chain[]; keyed: { chain: Chain; keyPem: string }[] }> {
  const chains: Chain[] = [];
  const keyed: { chain: Chain; keyPem: string }[] = [];
  const ecRoot = await makeCertificate({ commonName: 'Bench EC Root', isCa: true, notAfter: days(3650) });
  const ecIntermediate = await makeCertificate({ commonName: 'Bench EC Intermediate', isCa: true, issuer: ecRoot, notAfter: days(1825) });
  const rsa = await rsaHierarchy();
  for (let i = 0; i < TEMPLATES; i++) {
    const name = `host${i}.bench.test`;
    // One in ten RSA, as on hosts still serving RSA; one in twenty a self-signed leaf (its check costs more).
    if (i % 10 === 9) {
      chains.push({ leaf: await rsa.leaf(name), intermediate: rsa.intermediate, root: rsa.root });
    } else {
      const leaf = i % 20 === 3
        ? await makeCertificate({ commonName: name, dnsNames: [name] })
        : await makeCertificate({ commonName: name, dnsNames: [name, `www.${name}`], issuer: ecIntermediate, notAfter: days(10 + (i % 400)) });
      const chain = { leaf: leaf.der, intermediate: ecIntermediate.der, root: ecRoot.der };
      chains.push(chain);
      if (keyed.length < 20) keyed.push({ chain, keyPem: await privateKeyPem(leaf.keys.privateKey) });
    }
  }
  return { chains, keyed };
}

async function rsaHierarchy() {
  const algorithm = { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
  const generate = () => webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']) as Promise<webcrypto.CryptoKeyPair>;
  const [rootKeys, intermediateKeys, leafKeys] = await Promise.all([generate(), generate(), generate()]);
  const base = { notBefore: days(-1), notAfter: days(365), signingAlgorithm: algorithm };
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    ...base, serialNumber: '01a1b2c3d4e5f60708', name: 'CN=Bench RSA Root', keys: rootKeys,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
  });
  const issue = (serialNumber: string, subject: string, issuer: x509.X509Certificate, publicKey: webcrypto.CryptoKey, signingKey: webcrypto.CryptoKey, isCa: boolean) =>
    x509.X509CertificateGenerator.create({
      ...base, serialNumber, subject, issuer: issuer.subject, publicKey, signingKey,
      extensions: [new x509.BasicConstraintsExtension(isCa, undefined, true)],
    });
  const intermediate = await issue('02a1b2c3d4e5f60708', 'CN=Bench RSA Intermediate', root, intermediateKeys.publicKey, rootKeys.privateKey, true);
  let serial = 0x10;
  return {
    root: Buffer.from(root.rawData),
    intermediate: Buffer.from(intermediate.rawData),
    leaf: async (name: string) => Buffer.from((await issue(`03a1b2c3d4e5f6${(serial++).toString(16).padStart(4, '0')}`, `CN=${name}`, intermediate, leafKeys.publicKey, intermediateKeys.privateKey, false)).rawData),
  };
}

/** A copy of the certificate with the low four bytes of its serial number replaced: a distinct certificate. */
function distinct(der: Buffer, counter: number): Buffer {
  const copy = Buffer.from(der);
  const certificate = readElement(copy, 0);
  const tbs = readElement(copy, certificate.contentStart, certificate.contentEnd);
  const fields = childrenOf(copy, tbs);
  const serial = fields[0].tag === 0xa0 ? fields[1] : fields[0];
  if (serial.contentEnd - serial.contentStart < 6) throw new Error('template serial too short');
  copy.writeUInt32BE(counter >>> 0, serial.contentEnd - 4);
  return copy;
}

function pem(der: Buffer, label = 'CERTIFICATE'): string {
  return `-----BEGIN ${label}-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END ${label}-----\n`;
}

function derElement(tag: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  const length = body.length;
  const header = length < 0x80 ? [tag, length] : length < 0x100 ? [tag, 0x81, length] : length < 0x10000
    ? [tag, 0x82, length >> 8, length & 0xff] : [tag, 0x83, length >> 16, (length >> 8) & 0xff, length & 0xff];
  return Buffer.concat([Buffer.from(header), body]);
}

/** A certs-only PKCS#7 SignedData, as `openssl crl2pkcs7 -nocrl` writes it. */
function pkcs7(certificates: Buffer[]): Buffer {
  const signedData = Buffer.from('06092a864886f70d010702', 'hex');
  const data = Buffer.from('06092a864886f70d010701', 'hex');
  return derElement(0x30, signedData, derElement(0xa0, derElement(0x30,
    derElement(0x02, Buffer.from([1])), derElement(0x31), derElement(0x30, data), derElement(0xa0, ...certificates), derElement(0x31))));
}

function writeTree(root: string, chains: Chain[], keyed: { chain: Chain; keyPem: string }[]) {
  const certificateFiles: string[] = [];
  let occurrences = 0;
  let counter = 0;
  const directory = (i: number) => {
    const path = join(root, `d${Math.floor(i / 1000) % 20}`, `e${Math.floor(i / 100) % 10}`);
    mkdirSync(path, { recursive: true });
    return path;
  };
  const copies = (chain: Chain, count: number) => [chain.leaf, chain.intermediate, chain.root].slice(0, count).map((der) => distinct(der, counter++));
  for (let i = 0; i < CERT_FILES; i++) {
    const chain = chains[i % chains.length];
    const path = join(directory(i), `cert${i}`);
    let name: string;
    let content: string | Buffer;
    let count = 1;
    if (i % 100 === 50) {
      const { chain: keyedChain, keyPem } = keyed[Math.floor(i / 100) % keyed.length];
      [name, content] = [`${path}-combined.pem`, keyPem + pem(copies(keyedChain, 1)[0])];
    } else {
      switch (i % 10) {
        case 0: case 1: [name, content] = [`${path}.pem`, pem(copies(chain, 1)[0])]; break;
        case 2: case 3: [name, content] = [`${path}.crt`, pem(copies(chain, 1)[0])]; break;
        case 4: [name, content] = [`${path}.der`, copies(chain, 1)[0]]; break;
        case 5: [name, content] = [`${path}.cer`, copies(chain, 1)[0]]; break;
        case 6: case 7: count = 3; [name, content] = [`${path}-fullchain.pem`, copies(chain, 3).map((der) => pem(der)).join('')]; break;
        case 8: count = 3; [name, content] = [`${path}.p7b`, pem(pkcs7(copies(chain, 3)), 'PKCS7')]; break;
        default: count = 3; [name, content] = [`${path}.p7c`, pkcs7(copies(chain, 3))]; break;
      }
    }
    writeFileSync(name, content);
    certificateFiles.push(name);
    occurrences += count;
  }
  const words = 'server listen ssl_certificate proxy_pass location root index include upstream worker_processes'.split(' ');
  for (let i = 0; i < OTHER_FILES; i++) {
    const path = join(directory(i), `other${i}`);
    if (i % 5 < 3) {
      const lines = Array.from({ length: 20 + (i % 80) }, (_, n) => `${words[(i + n) % words.length]} value${n};`);
      writeFileSync(`${path}.${['conf', 'txt', 'json'][i % 3]}`, lines.join('\n'));
    } else {
      writeFileSync(`${path}.${['bin', 'so'][i % 2]}`, randomBytes(1024 + (i % 8) * 1024));
    }
  }
  return { certificateFiles, occurrences };
}
