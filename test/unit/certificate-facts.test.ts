import { createHash, webcrypto } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  certificateFacts,
  isMalformedCertificateError,
  MalformedCertificateError,
  type CertificateFacts,
} from '../../proto/shared/certificate-facts.js';
import { x509 } from '../../proto/shared/x509.js';

type KeyPair = webcrypto.CryptoKeyPair;
type SigningAlgorithm = Parameters<typeof webcrypto.subtle.generateKey>[0] & { hash?: string };

const RSA_SHA256 = { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
const RSA_SHA1 = { ...RSA_SHA256, hash: 'SHA-1' };
const P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const P384 = { name: 'ECDSA', namedCurve: 'P-384', hash: 'SHA-384' };
const ED25519 = { name: 'Ed25519' };

const NOT_BEFORE = new Date('2026-01-01T00:00:00.000Z');
const NOT_AFTER = new Date('2027-01-01T00:00:00.000Z');

async function generateKeys(algorithm: SigningAlgorithm): Promise<KeyPair> {
  return (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as KeyPair;
}

interface CertificateSpec {
  subject: string;
  keys: KeyPair;
  algorithm: SigningAlgorithm;
  issuer?: { name: string; keys: KeyPair };
  serialNumber?: string;
  notBefore?: Date;
  notAfter?: Date;
  extensions?: x509.Extension[];
}

async function issue(spec: CertificateSpec): Promise<Buffer> {
  const issuer = spec.issuer ?? { name: spec.subject, keys: spec.keys };
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: spec.serialNumber ?? '01',
    subject: spec.subject,
    issuer: issuer.name,
    notBefore: spec.notBefore ?? NOT_BEFORE,
    notAfter: spec.notAfter ?? NOT_AFTER,
    signingAlgorithm: spec.algorithm,
    publicKey: spec.keys.publicKey,
    signingKey: issuer.keys.privateKey,
    extensions: spec.extensions ?? [],
  });
  return Buffer.from(certificate.rawData);
}

describe('certificateFacts', () => {
  let rsaKeys: KeyPair;
  let rsaCa: Buffer;
  let leafWithSans: Buffer;

  beforeAll(async () => {
    rsaKeys = await generateKeys(RSA_SHA256);
    rsaCa = await issue({
      subject: 'CN=Example Root CA, O=Example',
      keys: rsaKeys,
      algorithm: RSA_SHA256,
      serialNumber: '7f3e01',
      extensions: [new x509.BasicConstraintsExtension(true, 0, true)],
    });
    leafWithSans = await issue({
      subject: 'CN=example.com, O=Example',
      keys: await generateKeys(P256),
      algorithm: RSA_SHA256,
      issuer: { name: 'CN=Example Root CA, O=Example', keys: rsaKeys },
      extensions: [
        new x509.BasicConstraintsExtension(false),
        new x509.SubjectAlternativeNameExtension([
          { type: 'dns', value: 'example.com' },
          { type: 'dns', value: 'www.example.com' },
          { type: 'ip', value: '127.0.0.1' },
          { type: 'ip', value: '::1' },
          { type: 'email', value: 'ops@example.com' },
          { type: 'url', value: 'https://example.com/' },
        ]),
      ],
    });
  }, 30_000);

  it('describes a self-signed RSA-2048 CA certificate', () => {
    expect(certificateFacts(rsaCa)).toEqual<CertificateFacts>({
      fingerprintSha256: createHash('sha256').update(rsaCa).digest('hex'),
      subject: 'CN=Example Root CA, O=Example',
      issuer: 'CN=Example Root CA, O=Example',
      serialNumber: '7f3e01',
      sans: [],
      notBefore: '2026-01-01T00:00:00.000Z',
      notAfter: '2027-01-01T00:00:00.000Z',
      keyAlgorithm: 'RSA',
      keySize: 2048,
      curve: null,
      signatureAlgorithm: 'sha256WithRSAEncryption',
      selfSigned: true,
      isCa: true,
    });
  });

  it('lists DNS, IP, email and URI subject alternative names of a leaf issued by a CA', () => {
    const facts = certificateFacts(leafWithSans);
    expect(facts.sans).toEqual([
      'DNS:example.com', 'DNS:www.example.com', 'IP:127.0.0.1', 'IP:::1', 'email:ops@example.com', 'URI:https://example.com/',
    ]);
    expect(facts).toMatchObject({
      subject: 'CN=example.com, O=Example',
      issuer: 'CN=Example Root CA, O=Example',
      selfSigned: false,
      isCa: false,
      keyAlgorithm: 'EC',
      keySize: null,
      curve: 'P-256',
      signatureAlgorithm: 'sha256WithRSAEncryption',
    });
  });

  it('names the curve and signature of ECDSA P-256 and P-384 certificates', async () => {
    const p256Keys = await generateKeys(P256);
    const p384Keys = await generateKeys(P384);
    const p256 = certificateFacts(await issue({ subject: 'CN=p256', keys: p256Keys, algorithm: P256 }));
    const p384 = certificateFacts(await issue({ subject: 'CN=p384', keys: p384Keys, algorithm: P384 }));
    expect(p256).toMatchObject({ keyAlgorithm: 'EC', curve: 'P-256', keySize: null, signatureAlgorithm: 'ecdsa-with-SHA256', selfSigned: true });
    expect(p384).toMatchObject({ keyAlgorithm: 'EC', curve: 'P-384', keySize: null, signatureAlgorithm: 'ecdsa-with-SHA384', selfSigned: true });
  });

  it('describes an Ed25519 certificate', async () => {
    const facts = certificateFacts(await issue({ subject: 'CN=ed25519', keys: await generateKeys(ED25519), algorithm: ED25519 }));
    expect(facts).toMatchObject({ keyAlgorithm: 'Ed25519', keySize: null, curve: null, signatureAlgorithm: 'ED25519', selfSigned: true });
  });

  it('recognises a SHA-1 RSA signature', async () => {
    // Reuse the RSA key under a SHA-1 binding: WebCrypto ties the hash to the key, not to the signature call.
    const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', rsaKeys.privateKey);
    const spki = await webcrypto.subtle.exportKey('spki', rsaKeys.publicKey);
    const keys = {
      privateKey: await webcrypto.subtle.importKey('pkcs8', pkcs8, RSA_SHA1, true, ['sign']),
      publicKey: await webcrypto.subtle.importKey('spki', spki, RSA_SHA1, true, ['verify']),
    };
    const facts = certificateFacts(await issue({ subject: 'CN=legacy', keys, algorithm: RSA_SHA1 }));
    expect(facts.signatureAlgorithm).toBe('sha1WithRSAEncryption');
    expect(facts.selfSigned).toBe(true);
  });

  it('reports the validity of an expired certificate and dates after 2049 exactly', async () => {
    const keys = await generateKeys(P256);
    const expired = certificateFacts(await issue({
      subject: 'CN=expired', keys, algorithm: P256,
      notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2021-01-01T12:30:45Z'),
    }));
    expect(expired).toMatchObject({ notBefore: '2020-01-01T00:00:00.000Z', notAfter: '2021-01-01T12:30:45.000Z' });
    // From 2050 on, certificates switch from UTCTime to GeneralizedTime.
    const longLived = certificateFacts(await issue({ subject: 'CN=long', keys, algorithm: P256, notAfter: new Date('2060-06-30T23:59:59Z') }));
    expect(longLived.notAfter).toBe('2060-06-30T23:59:59.000Z');
  });

  it('does not call a certificate self-signed when only the names match', async () => {
    const impostor = await issue({
      subject: 'CN=Example Root CA, O=Example',
      keys: await generateKeys(P256),
      algorithm: RSA_SHA256,
      issuer: { name: 'CN=Example Root CA, O=Example', keys: rsaKeys },
    });
    expect(certificateFacts(impostor)).toMatchObject({ issuer: 'CN=Example Root CA, O=Example', subject: 'CN=Example Root CA, O=Example', selfSigned: false });
  });

  it('escapes commas inside name values so the one-line form stays unambiguous', async () => {
    const facts = certificateFacts(await issue({ subject: 'CN=shop, O=Example\\, Inc.', keys: await generateKeys(P256), algorithm: P256 }));
    expect(facts.subject).toBe('CN=shop, O=Example\\, Inc.');
  });

  it.each([
    ['empty input', () => Buffer.alloc(0)],
    ['random bytes', () => Buffer.from('d2a1c0ffee00112233445566778899', 'hex')],
    ['a truncated certificate', () => rsaCa.subarray(0, rsaCa.length - 10)],
    ['a certificate followed by extra bytes', () => Buffer.concat([rsaCa, Buffer.from([0])])],
    ['PEM text instead of DER', () => Buffer.from(new x509.X509Certificate(rsaCa).toString('pem'))],
    ['a DER SEQUENCE that is not a certificate', () => Buffer.from('3006020101020102', 'hex')],
  ])('throws MalformedCertificateError for %s', (_, input) => {
    let thrown: unknown;
    try {
      certificateFacts(input());
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(MalformedCertificateError);
    expect(isMalformedCertificateError(thrown)).toBe(true);
    expect((thrown as Error).name).toBe('MalformedCertificateError');
  });
});
