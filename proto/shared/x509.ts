// @peculiar/x509 set up once for both processes: it needs the reflect polyfill loaded first and a
// WebCrypto provider. Import x509 from here, never from the package directly.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };

export const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** PEM text of a PKCS#8 private key exported from WebCrypto. */
export async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return x509.PemConverter.encode(der, 'PRIVATE KEY') + '\n';
}

/** Imports a PKCS#8 PEM private key (and derives its public key) as a WebCrypto key pair for signing. */
export async function importEcKeyPair(pem: string): Promise<CryptoKeyPair> {
  const { createPrivateKey, createPublicKey } = await import('node:crypto');
  const privateObject = createPrivateKey(pem);
  const pkcs8 = privateObject.export({ format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(privateObject).export({ format: 'der', type: 'spki' });
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256' };
  return {
    privateKey: await webcrypto.subtle.importKey('pkcs8', pkcs8, algorithm, true, ['sign']),
    publicKey: await webcrypto.subtle.importKey('spki', spki, algorithm, true, ['verify']),
  };
}

/** A new P-256 key pair (the key stays with whoever calls this). */
export async function generateEcKeyPair(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ECDSA_P256, true, ['sign', 'verify']);
}

export function pemBlocks(text: string, label = 'CERTIFICATE'): string[] {
  const re = new RegExp(`-----BEGIN ${label}-----[\\s\\S]*?-----END ${label}-----`, 'g');
  return (text.match(re) ?? []).map((block) => block + '\n');
}
