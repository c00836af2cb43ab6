// Discovery of every certificate format the agent reads, and the matching of private keys to certificates.
// PKCS#7 and PKCS#12 files are made here with Debian's openssl; Java keystores come from committed fixtures
// (keytool is not on CI; test/fixtures/keystores/README.md says how they were made).
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScanCommand } from '../../agent/src/commands/scan.js';
import { scanPaths, type ScanEvent, type ScanOptions } from '../../agent/src/discovery/file-scanner.js';
import { certificateFacts } from '../../proto/shared/certificate-facts.js';
import { privateKeyPem } from '../../proto/shared/x509.js';
import { makeCertificate } from '../support/certificates.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/keystores/', import.meta.url));

type Certificate = Extract<ScanEvent, { type: 'certificate' }>;

async function scan(paths: string[], options: ScanOptions = {}) {
  const events: ScanEvent[] = [];
  for await (const event of scanPaths(paths, options)) events.push(event);
  const certificates = events.filter((event): event is Certificate => event.type === 'certificate');
  return { events, certificates, others: events.filter((event) => event.type !== 'certificate') };
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const derOf = (pem: string) => Buffer.from(new X509Certificate(pem).raw);

class CapturedOutput extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

describe('discovery formats', () => {
  let dir: string;
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const path = (name: string) => join(dir, name);

  async function subdirectory(name: string, files: Record<string, string | Buffer>): Promise<string> {
    await mkdir(path(name), { recursive: true });
    for (const [file, content] of Object.entries(files)) await writeFile(join(path(name), file), content);
    return path(name);
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certflow-formats-'));
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'rsa.key', '-out', 'rsa.pem', '-subj', '/CN=rsa.example', '-days', '30');
    const ec = await makeCertificate({ commonName: 'ec.example' });
    await writeFile(path('ec.pem'), ec.pem);
    await writeFile(path('ec.key'), await privateKeyPem(ec.keys.privateKey));
    openssl('crl2pkcs7', '-nocrl', '-certfile', 'rsa.pem', '-certfile', 'ec.pem', '-out', 'chain.p7b');
    openssl('crl2pkcs7', '-nocrl', '-certfile', 'rsa.pem', '-certfile', 'ec.pem', '-outform', 'DER', '-out', 'chain.p7c');
    const pkcs12 = (name: string, key: string, certificate: string, password: string, ...extra: string[]) =>
      openssl('pkcs12', '-export', '-inkey', key, '-in', certificate, '-passout', `pass:${password}`, '-out', name, ...extra);
    pkcs12('rsa.p12', 'rsa.key', 'rsa.pem', 'changeit', '-certfile', 'ec.pem');
    pkcs12('ec.pfx', 'ec.key', 'ec.pem', 'changeit');
    pkcs12('empty.p12', 'ec.key', 'ec.pem', '');
    // RC2-40 certificates and a 3DES key, as OpenSSL 1.x, Java 8 and Windows wrote them.
    pkcs12('legacy.p12', 'rsa.key', 'rsa.pem', 'changeit', '-legacy');
    pkcs12('custom.p12', 'ec.key', 'ec.pem', 's3cret-of-the-host');
    pkcs12('locked.p12', 'ec.key', 'ec.pem', 'not-in-the-list');
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('gives exactly the facts certificateFacts gives, in the same order', async () => {
    const { certificates } = await scan([path('rsa.pem'), path('ec.pem')]);
    for (const { der, facts } of certificates) {
      expect(Object.keys(facts)).toEqual(Object.keys(certificateFacts(der)));
      expect({ ...facts }).toEqual(certificateFacts(der));
    }
  });

  it('reads every certificate of a PKCS#7 file, PEM or DER, whatever its extension', async () => {
    const p7 = await subdirectory('p7', {});
    await copyFile(path('chain.p7b'), join(p7, 'chain.p7b'));
    await copyFile(path('chain.p7c'), join(p7, 'chain.p7c'));
    // Windows exports PKCS#7 under .cer.
    await copyFile(path('chain.p7c'), join(p7, 'windows-export.cer'));
    const { certificates, others } = await scan([p7]);
    expect(others).toEqual([]);
    const expected = [sha256(derOf(await readFile(path('rsa.pem'), 'latin1'))), sha256(derOf(await readFile(path('ec.pem'), 'latin1')))];
    for (const name of ['chain.p7b', 'chain.p7c', 'windows-export.cer']) {
      const found = certificates.filter((event) => event.path === join(p7, name));
      expect(found.map(({ index, format }) => ({ index, format }))).toEqual([{ index: 0, format: 'pkcs7' }, { index: 1, format: 'pkcs7' }]);
      // Byte for byte as stored: the fingerprint is the certificate's, not a re-encoding's.
      expect(found.map((event) => event.facts.fingerprintSha256)).toEqual(expected);
    }
  });

  it('opens PKCS#12 files with the default password and reports every certificate bag, EC ones too', async () => {
    const p12 = await subdirectory('p12', {});
    await copyFile(path('rsa.p12'), join(p12, 'rsa.p12'));
    await copyFile(path('ec.pfx'), join(p12, 'ec.pfx'));
    const { certificates, others } = await scan([p12]);
    expect(others).toEqual([
      { type: 'keystore', path: join(p12, 'ec.pfx'), kind: 'pkcs12', state: 'opened', certificates: 1, message: 'pkcs12 keystore opened (1 certificate)' },
      { type: 'keystore', path: join(p12, 'rsa.p12'), kind: 'pkcs12', state: 'opened', certificates: 2, message: 'pkcs12 keystore opened (2 certificates)' },
    ]);
    expect(certificates.map(({ path: file, index, format, facts, keyPath }) => [file, index, format, facts.subject, facts.keyAlgorithm, keyPath])).toEqual([
      [join(p12, 'ec.pfx'), 0, 'pkcs12', 'CN=ec.example', 'EC', join(p12, 'ec.pfx')],
      [join(p12, 'rsa.p12'), 0, 'pkcs12', 'CN=rsa.example', 'RSA', join(p12, 'rsa.p12')],
      // The extra certificate's key is in ec.pfx, walked first.
      [join(p12, 'rsa.p12'), 1, 'pkcs12', 'CN=ec.example', 'EC', join(p12, 'ec.pfx')],
    ]);
    expect(certificates[1].der.equals(derOf(await readFile(path('rsa.pem'), 'latin1')))).toBe(true);
  });

  it('opens an empty-password, a legacy RC2/3DES and a configured-password PKCS#12, and reports one no password opens as locked', async () => {
    const stores = await subdirectory('stores', {});
    for (const name of ['empty.p12', 'legacy.p12', 'custom.p12', 'locked.p12']) await copyFile(path(name), join(stores, name));

    const byDefault = await scan([stores]);
    expect(byDefault.others.map((event) => event.type === 'keystore' && [event.path, event.state, event.certificates])).toEqual([
      [join(stores, 'custom.p12'), 'locked', 0],
      [join(stores, 'empty.p12'), 'opened', 1],
      [join(stores, 'legacy.p12'), 'opened', 1],
      [join(stores, 'locked.p12'), 'locked', 0],
    ]);
    expect(byDefault.others[3]).toMatchObject({ message: 'pkcs12 keystore locked (no configured password opens it)' });

    const configured = await scan([join(stores, 'custom.p12')], { keystorePasswords: ['changeit', 's3cret-of-the-host'] });
    expect(configured.others).toMatchObject([{ type: 'keystore', state: 'opened', certificates: 1 }]);
    expect(configured.certificates).toMatchObject([{ format: 'pkcs12', keyPath: join(stores, 'custom.p12') }]);
  });

  it('reads the certificates of a JKS keystore and verifies its integrity with the password list', async () => {
    const { certificates, others } = await scan([join(FIXTURES, 'server.jks'), join(FIXTURES, 'locked.jks')]);
    expect(others).toMatchObject([
      { type: 'keystore', path: join(FIXTURES, 'server.jks'), kind: 'jks', state: 'opened', certificates: 2 },
      { type: 'keystore', path: join(FIXTURES, 'locked.jks'), kind: 'jks', state: 'locked', certificates: 1 },
    ]);
    const trusted = derOf(await readFile(join(FIXTURES, 'trusted.pem'), 'latin1'));
    expect(certificates.map(({ path: file, index, format, facts, keyPath }) => [file, index, format, facts.subject, keyPath])).toEqual([
      [join(FIXTURES, 'server.jks'), 0, 'jks', 'CN=keystore-trusted.example', null],
      // A private-key entry's first chain certificate is its key's certificate.
      [join(FIXTURES, 'server.jks'), 1, 'jks', 'CN=keystore-server.example', join(FIXTURES, 'server.jks')],
      [join(FIXTURES, 'locked.jks'), 0, 'jks', 'CN=keystore-trusted.example', null],
    ]);
    expect(certificates[0].der.equals(trusted)).toBe(true);
  });

  it('reads JCEKS keystores, and reports one with secret-key entries as detected with the certificates before them', async () => {
    const { certificates, others } = await scan([join(FIXTURES, 'server.jceks'), join(FIXTURES, 'secret.jceks')]);
    expect(others).toMatchObject([
      { type: 'keystore', kind: 'jceks', state: 'opened', certificates: 1 },
      { type: 'keystore', kind: 'jceks', state: 'detected', certificates: 1 },
    ]);
    expect(certificates.map(({ format, facts }) => [format, facts.subject])).toEqual([
      ['jceks', 'CN=keystore-jceks.example'],
      ['jceks', 'CN=keystore-trusted.example'],
    ]);
  });

  it('matches PKCS#8, RSA and EC private keys to their certificates by public key, across the tree', async () => {
    const ecSec1 = await makeCertificate({ commonName: 'sec1.example' });
    await writeFile(path('sec1-pkcs8.key'), await privateKeyPem(ecSec1.keys.privateKey));
    const sec1Key = openssl('ec', '-in', 'sec1-pkcs8.key').toString();
    const lonely = await makeCertificate({ commonName: 'lonely.example' });
    const tree = await subdirectory('keys', {});
    await subdirectory('keys/a-certs', { 'rsa.pem': await readFile(path('rsa.pem')), 'sec1.pem': ecSec1.pem, 'lonely.pem': lonely.pem });
    await subdirectory('keys/b-private', { 'rsa.key': openssl('rsa', '-in', 'rsa.key', '-traditional'), 'sec1.key': sec1Key });
    await subdirectory('keys/c-combined', { 'ec.pem': `${await readFile(path('ec.key'), 'latin1')}${await readFile(path('ec.pem'), 'latin1')}` });
    expect(sec1Key).toContain('-----BEGIN EC PRIVATE KEY-----');
    const { certificates, others } = await scan([tree]);
    expect(others).toEqual([]);
    expect(certificates.map(({ path: file, keyPath }) => [file, keyPath])).toEqual([
      [join(tree, 'a-certs/lonely.pem'), null],
      [join(tree, 'a-certs/rsa.pem'), join(tree, 'b-private/rsa.key')],
      [join(tree, 'a-certs/sec1.pem'), join(tree, 'b-private/sec1.key')],
      [join(tree, 'c-combined/ec.pem'), join(tree, 'c-combined/ec.pem')],
    ]);
    expect(certificates[1].publicKeySha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('skips encrypted private keys, saying so, and leaves their certificate without a keyPath', async () => {
    const tree = await subdirectory('encrypted', {
      'rsa.pem': await readFile(path('rsa.pem')),
      'rsa.key': openssl('rsa', '-in', 'rsa.key', '-traditional', '-aes128', '-passout', 'pass:x'),
      'ec.pem': await readFile(path('ec.pem')),
      'ec.key': openssl('pkcs8', '-topk8', '-in', 'ec.key', '-passout', 'pass:x'),
    });
    const { certificates, others } = await scan([tree]);
    expect(others).toEqual([
      { type: 'skipped', path: join(tree, 'ec.key'), message: 'private key block 0: encrypted, not matched to certificates' },
      { type: 'skipped', path: join(tree, 'rsa.key'), message: 'private key block 0: encrypted, not matched to certificates' },
    ]);
    expect(certificates.map((event) => event.keyPath)).toEqual([null, null]);
  });

  it('prints keyPath in the JSON, locked keystores on stderr and in the table, and never any key material', async () => {
    const tree = await subdirectory('cli', {
      'server.pem': await readFile(path('ec.pem')),
      'server.key': await readFile(path('ec.key')),
      'rsa.key': openssl('rsa', '-in', 'rsa.key', '-traditional'),
    });
    await copyFile(path('rsa.p12'), join(tree, 'rsa.p12'));
    await copyFile(path('locked.p12'), join(tree, 'locked.p12'));
    const keyBodies = [await readFile(path('ec.key'), 'latin1'), await readFile(join(tree, 'rsa.key'), 'latin1'), await readFile(path('rsa.key'), 'latin1')]
      .flatMap((pem) => pem.split('\n').filter((line) => line !== '' && !line.startsWith('-----')));

    const out = new CapturedOutput();
    const err = new CapturedOutput();
    expect(await runScanCommand(['--json', tree], out, err)).toBe(0);
    const records = out.text.split('\n').filter(Boolean).map((line) => JSON.parse(line));
    expect(records.map((record) => [record.path, record.format, record.keyPath])).toEqual([
      [join(tree, 'rsa.p12'), 'pkcs12', join(tree, 'rsa.p12')],
      [join(tree, 'rsa.p12'), 'pkcs12', join(tree, 'server.key')],
      [join(tree, 'server.pem'), 'pem', join(tree, 'server.key')],
    ]);
    expect(err.text).toBe(`certflow-agent: ${join(tree, 'locked.p12')}: pkcs12 keystore locked (no configured password opens it)\n`);

    const tableOut = new CapturedOutput();
    const tableErr = new CapturedOutput();
    await runScanCommand([tree], tableOut, tableErr);
    expect(tableOut.text).toMatch(new RegExp(`${join(tree, 'locked.p12')} +\\(pkcs12 keystore, locked\\) +- +- +- +-\\n`));

    for (const text of [out.text, err.text, tableOut.text, tableErr.text]) {
      for (const line of keyBodies) expect(text).not.toContain(line);
      expect(text).not.toContain('changeit');
    }
  });
});
