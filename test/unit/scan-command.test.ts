import { execFileSync } from 'node:child_process';
import { createHash, webcrypto } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScanCommand } from '../../agent/src/commands/scan.js';
import { scanPaths, type ScanEvent } from '../../agent/src/discovery/file-scanner.js';
import { x509 } from '../../proto/shared/x509.js';

const P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const JSON_FIELDS = [
  'path', 'index', 'format', 'fingerprintSha256', 'subject', 'issuer', 'serialNumber', 'sans', 'notBefore', 'notAfter',
  'keyAlgorithm', 'keySize', 'curve', 'signatureAlgorithm', 'selfSigned', 'isCa', 'keyPath',
];

async function selfSignedCertificate(commonName: string): Promise<Buffer> {
  const keys = (await webcrypto.subtle.generateKey(P256, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `CN=${commonName}`,
    notBefore: new Date('2026-01-01T00:00:00Z'),
    notAfter: new Date('2027-01-01T00:00:00Z'),
    signingAlgorithm: P256,
    keys,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: commonName }, { type: 'ip', value: '127.0.0.1' }])],
  });
  return Buffer.from(certificate.rawData);
}

function pemBlock(der: Buffer, label = 'CERTIFICATE', lineEnding = '\n'): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return [`-----BEGIN ${label}-----`, ...lines, `-----END ${label}-----`, ''].join(lineEnding);
}

class CapturedOutput extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
  lines(): string[] {
    return this.text.split('\n').filter((line) => line !== '');
  }
}

async function scan(argv: string[], now = new Date('2026-06-01T00:00:00Z')) {
  const out = new CapturedOutput();
  const err = new CapturedOutput();
  const exitCode = await runScanCommand(argv, out, err, { now: () => now });
  return { exitCode, out, err, records: argv.includes('--json') ? out.lines().map((line) => JSON.parse(line)) : [] };
}

async function collect(paths: string[], maxFileBytes?: number): Promise<ScanEvent[]> {
  const events: ScanEvent[] = [];
  for await (const event of scanPaths(paths, { maxFileBytes })) events.push(event);
  return events;
}

describe('certflow-agent scan', () => {
  let dir: string;
  let alpha: Buffer;
  let beta: Buffer;
  let gamma: Buffer;
  // A real key, so the test proves its bytes never leak into any output.
  let privateKeyPem: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certflow-scan-'));
    [alpha, beta, gamma] = await Promise.all(['alpha.example', 'beta.example', 'gamma.example'].map(selfSignedCertificate));
    const keys = (await webcrypto.subtle.generateKey(P256, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    privateKeyPem = pemBlock(Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)), 'PRIVATE KEY');
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function file(name: string, content: string | Buffer): Promise<string> {
    const path = join(dir, name);
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, content);
    return path;
  }

  it('reports every certificate of a PEM bundle with CRLF line endings', async () => {
    const bundle = await file('bundle/chain.pem', [
      'Bag Attributes: friendlyName: alpha\r\n', pemBlock(alpha, 'CERTIFICATE', '\r\n'),
      '\r\nsubject=CN=beta.example\r\n', pemBlock(beta, 'CERTIFICATE', '\r\n'),
      'notes between blocks\r\n', pemBlock(gamma, 'CERTIFICATE', '\r\n'),
    ].join(''));
    const { exitCode, records, err } = await scan([bundle, '--json']);
    expect(exitCode).toBe(0);
    expect(err.text).toBe('');
    expect(records.map((record) => [record.path, record.index, record.format, record.subject])).toEqual([
      [bundle, 0, 'pem', 'CN=alpha.example'],
      [bundle, 1, 'pem', 'CN=beta.example'],
      [bundle, 2, 'pem', 'CN=gamma.example'],
    ]);
  });

  it('prints exactly the documented JSON fields with a SHA-256 fingerprint of the DER and ISO dates', async () => {
    const path = await file('fields/alpha.pem', pemBlock(alpha));
    const [record] = (await scan(['--json', path])).records;
    expect(Object.keys(record)).toEqual(JSON_FIELDS);
    expect(record).toEqual({
      path,
      index: 0,
      format: 'pem',
      fingerprintSha256: createHash('sha256').update(alpha).digest('hex'),
      subject: 'CN=alpha.example',
      issuer: 'CN=alpha.example',
      serialNumber: '01',
      sans: ['DNS:alpha.example', 'IP:127.0.0.1'],
      notBefore: '2026-01-01T00:00:00.000Z',
      notAfter: '2027-01-01T00:00:00.000Z',
      keyAlgorithm: 'EC',
      keySize: null,
      curve: 'P-256',
      signatureAlgorithm: 'ecdsa-with-SHA256',
      selfSigned: true,
      isCa: false,
      keyPath: null,
    });
  });

  it('reads a raw DER certificate file', async () => {
    const path = await file('der/beta.der', beta);
    const { records } = await scan(['--json', path]);
    expect(records).toMatchObject([{ path, index: 0, format: 'der', subject: 'CN=beta.example' }]);
    expect(records[0].fingerprintSha256).toBe(createHash('sha256').update(beta).digest('hex'));
  });

  it('accepts TRUSTED CERTIFICATE and X509 CERTIFICATE blocks', async () => {
    // OpenSSL appends trust settings (here an empty SEQUENCE) after the certificate inside a TRUSTED block.
    const trusted = Buffer.concat([alpha, Buffer.from([0x30, 0x00])]);
    const path = await file('variants/trusted.pem', pemBlock(trusted, 'TRUSTED CERTIFICATE') + pemBlock(beta, 'X509 CERTIFICATE'));
    const { records } = await scan(['--json', path]);
    expect(records.map((record) => record.fingerprintSha256)).toEqual(
      [alpha, beta].map((der) => createHash('sha256').update(der).digest('hex')));
  });

  it('still reports the good certificate next to a malformed PEM block and names the path on stderr', async () => {
    const path = await file('mixed/broken.pem', pemBlock(alpha).replace(/^MI/m, 'M!') + pemBlock(beta));
    const { exitCode, records, err } = await scan(['--json', path]);
    expect(exitCode).toBe(0);
    expect(records).toMatchObject([{ path, index: 1, subject: 'CN=beta.example' }]);
    expect(err.lines()).toEqual([`certflow-agent: ${path}: certificate block 0: invalid base64 in PEM block`]);
  });

  it('reports a PEM block whose base64 is valid but whose DER is not a certificate', async () => {
    const path = await file('mixed/not-der.crt', pemBlock(alpha.subarray(0, 100)));
    const { records, err } = await scan(['--json', path]);
    expect(records).toEqual([]);
    expect(err.lines()).toHaveLength(1);
    expect(err.text).toContain(`certflow-agent: ${path}: certificate block 0: `);
  });

  it('ignores private keys but reports the certificate stored with them, without ever printing the key', async () => {
    const keyOnly = await file('keys/privkey.pem', privateKeyPem);
    const combined = await file('keys/combined.pem', privateKeyPem + pemBlock(gamma));
    for (const argv of [['--json', keyOnly, combined], [keyOnly, combined]]) {
      const { out, err } = await scan(argv);
      const keyBody = privateKeyPem.split('\n')[1];
      expect(out.text + err.text).not.toContain(keyBody);
      expect(err.text).toBe('');
      expect(out.text).toContain(combined);
      expect(out.text).not.toContain(keyOnly);
    }
  });

  it('says "no certificate found" only for files named like certificates', async () => {
    const namedLikeCertificate = await file('junk/empty.crt', 'this is not a certificate\n');
    await file('junk/readme.txt', 'plain text, nothing to see\n');
    await file('junk/blob.bin', Buffer.from([0x30, 0x03, 0x02, 0x01, 0x05]));
    const { records, err } = await scan(['--json', join(dir, 'junk')]);
    expect(records).toEqual([]);
    expect(err.lines()).toEqual([`certflow-agent: ${namedLikeCertificate}: no certificate found`]);
  });

  it('reports a path that does not exist and keeps scanning the others', async () => {
    const missing = join(dir, 'does-not-exist.pem');
    const present = await file('present/alpha.pem', pemBlock(alpha));
    const { exitCode, records, err } = await scan(['--json', missing, present]);
    expect(exitCode).toBe(0);
    expect(err.lines()).toEqual([`certflow-agent: ${missing}: no such file or directory`]);
    expect(records).toMatchObject([{ path: present }]);
  });

  it('finishes a directory that links back to itself and reports a symlink loop as a problem', async () => {
    const looped = join(dir, 'looped');
    const certificate = await file('looped/inner/alpha.pem', pemBlock(alpha));
    await symlink(looped, join(looped, 'inner', 'back-to-top'));
    await symlink(join(looped, 'ping'), join(looped, 'pong'));
    await symlink(join(looped, 'pong'), join(looped, 'ping'));
    const { exitCode, records, err } = await scan(['--json', looped]);
    expect(exitCode).toBe(0);
    expect(records.map((record) => record.path)).toEqual([certificate]);
    expect(err.lines()).toEqual([
      `certflow-agent: ${join(looped, 'ping')}: too many levels of symbolic links`,
      `certflow-agent: ${join(looped, 'pong')}: too many levels of symbolic links`,
    ]);
  });

  it('walks directories depth first in sorted order and skips FIFOs', async () => {
    const sorted = join(dir, 'sorted');
    const paths = [
      await file('sorted/b.pem', pemBlock(beta)),
      await file('sorted/a/z.pem', pemBlock(gamma)),
      await file('sorted/a.pem', pemBlock(alpha)),
    ];
    execFileSync('mkfifo', [join(sorted, 'a.fifo')]);
    const { records, err } = await scan(['--json', sorted]);
    expect(err.text).toBe('');
    expect(records.map((record) => record.path)).toEqual([paths[1], paths[2], paths[0]]);
  });

  it('prints an aligned table with subject, expiry, days left, key and fingerprint prefix', async () => {
    const path = await file('table/alpha.pem', pemBlock(alpha) + pemBlock(beta));
    const { exitCode, out } = await scan([path], new Date('2026-12-22T00:00:00Z'));
    expect(exitCode).toBe(0);
    const [header, first, second] = out.lines();
    expect(header).toMatch(/^PATH#INDEX +SUBJECT +NOT AFTER +DAYS LEFT +KEY +FINGERPRINT$/);
    expect(first).toContain(`${path}#0`);
    expect(first).toContain('CN=alpha.example');
    expect(first).toContain('2027-01-01T00:00:00Z');
    expect(first).toMatch(/ 10 {2}EC P-256 /);
    expect(first).toContain(createHash('sha256').update(alpha).digest('hex').slice(0, 16));
    expect(second).toContain('CN=beta.example');
    // Columns line up: every column starts at the same offset on every line.
    expect(first.indexOf('CN=alpha')).toBe(header.indexOf('SUBJECT'));
    expect(second.indexOf('CN=beta')).toBe(header.indexOf('SUBJECT'));
  });

  it('stops quietly when the reader of its output goes away', async () => {
    const path = await file('pipe/bundle.pem', pemBlock(alpha) + pemBlock(beta) + pemBlock(gamma));
    const closedPipe = new Writable({
      write(_chunk, _encoding, done) {
        done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const err = new CapturedOutput();
    await expect(runScanCommand(['--json', path], closedPipe, err)).resolves.toBe(0);
    expect(err.text).toBe('');
  });

  it('fails with the stream error when its output breaks for another reason', async () => {
    const path = await file('pipe/alpha.pem', pemBlock(alpha));
    const fullDisk = new Writable({
      write(_chunk, _encoding, done) {
        done(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }));
      },
    });
    await expect(runScanCommand(['--json', path], fullDisk, new CapturedOutput())).rejects.toMatchObject({ code: 'ENOSPC' });
  });

  it('exits 2 with a usage line when no path is given', async () => {
    const { exitCode, out, err } = await scan(['--json']);
    expect(exitCode).toBe(2);
    expect(out.text).toBe('');
    expect(err.lines().at(-1)).toBe('usage: certflow-agent scan PATH... [--json] [--configs] [--endpoints]');
  });

  it('exits 2 with a usage line on an unknown flag', async () => {
    const { exitCode, err } = await scan(['--yaml', dir]);
    expect(exitCode).toBe(2);
    expect(err.text).toContain('--yaml');
    expect(err.lines().at(-1)).toBe('usage: certflow-agent scan PATH... [--json] [--configs] [--endpoints]');
  });
});

describe('scanPaths', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certflow-scanner-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('skips files larger than maxFileBytes with a problem', async () => {
    const path = join(dir, 'big.pem');
    await writeFile(path, pemBlock(await selfSignedCertificate('big.example')));
    expect(await collect([path], 100)).toEqual([{ type: 'problem', path, message: 'skipped: larger than 100 bytes' }]);
  });

  it('stops with an AbortError when its signal is aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(scanPaths([dir], { signal: controller.signal }).next()).rejects.toMatchObject({ name: 'AbortError' });
  });
});
