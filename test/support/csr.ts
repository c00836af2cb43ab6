// CSRs for issuer tests, made the way an agent makes them (key on "the host", PKCS#10 with SANs), with
// the public key kept so a test can check the certificate carries exactly that key.
import { createPublicKey, generateKeyPairSync, webcrypto } from 'node:crypto';
import { x509 } from '../../proto/shared/x509.js';

export type TestKeyType = 'ecdsa-p256' | 'ecdsa-p384' | 'rsa-2048' | 'rsa-3072' | 'rsa-4096';

export interface TestCsr {
  csrPem: string;
  /** SPKI DER of the key the CSR was made for. */
  spki: Buffer;
  keyPem: string;
}

export async function makeTestCsr(options: {
  dnsNames?: string[];
  ipAddresses?: string[];
  commonName?: string;
  keyType?: TestKeyType;
}): Promise<TestCsr> {
  const keyType = options.keyType ?? 'ecdsa-p256';
  const [family, size] = keyType.split('-');
  const { privateKey } = family === 'rsa'
    ? generateKeyPairSync('rsa', { modulusLength: Number(size) })
    : generateKeyPairSync('ec', { namedCurve: size === 'p256' ? 'P-256' : 'P-384' });
  const algorithm = family === 'rsa'
    ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
    : { name: 'ECDSA', namedCurve: size === 'p256' ? 'P-256' : 'P-384', hash: size === 'p256' ? 'SHA-256' : 'SHA-384' };
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const keys = {
    privateKey: await webcrypto.subtle.importKey('pkcs8', privateKey.export({ format: 'der', type: 'pkcs8' }), algorithm, true, ['sign']),
    publicKey: await webcrypto.subtle.importKey('spki', spki, algorithm, true, ['verify']),
  };
  const names = [
    ...(options.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(options.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: options.commonName ? `CN=${options.commonName}` : '',
    keys,
    signingAlgorithm: algorithm,
    extensions: names.length ? [new x509.SubjectAlternativeNameExtension(names)] : [],
  });
  return { csrPem: csr.toString('pem'), spki, keyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string };
}
