// The built-in CA's key material: a self-signed root (10 years) and an issuing intermediate (5 years),
// both ECDSA P-384. The root signs only the intermediate; leaf certificates and CRLs are signed by the
// intermediate, so the root key is needed again only to make a new intermediate.
import { createPrivateKey, createPublicKey, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { x509, privateKeyPem } from '../../../../proto/shared/x509.js';

type CryptoKeyPair = webcrypto.CryptoKeyPair;

export const CA_KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-384' } as const;
export const CA_SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-384' } as const;

const DAY_MS = 86_400_000;
const ROOT_DAYS = 3652;
const INTERMEDIATE_DAYS = 1826;

/** What is sealed under the master key. Certificates are kept with their keys so neither can be swapped alone. */
export interface StoredCaMaterial {
  rootCertPem: string;
  rootKeyPem: string;
  intermediateCertPem: string;
  intermediateKeyPem: string;
}

/** The material opened for signing. The root's private key is not kept in memory. */
export interface OpenedCa {
  rootPem: string;
  intermediatePem: string;
  root: x509.X509Certificate;
  intermediate: x509.X509Certificate;
  intermediateKeys: CryptoKeyPair;
  rootFingerprintSha256: string;
}

/**
 * A positive DER integer of 17 bytes: a fixed 0x01 byte then 128 random bits. The fixed byte keeps the
 * encoding minimal (no leading zero byte, no sign bit) without spending any of the random bits.
 */
export function randomSerialHex(): string {
  return '01' + randomBytes(16).toString('hex');
}

export function fingerprintSha256(pem: string): string {
  return new X509Certificate(pem).fingerprint256.replaceAll(':', '').toLowerCase();
}

function escapeDn(value: string): string {
  return value.replace(/[,+="\\<>;]/g, '\\$&');
}

export async function createCaMaterial(caName: string): Promise<StoredCaMaterial> {
  const tag = randomBytes(4).toString('hex');
  const now = Date.now();
  const rootKeys = await webcrypto.subtle.generateKey(CA_KEY_ALGORITHM, true, ['sign', 'verify']);
  const intermediateKeys = await webcrypto.subtle.generateKey(CA_KEY_ALGORITHM, true, ['sign', 'verify']);
  // The random tag keeps two installations' CA names apart in a trust store that holds both.
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialHex(),
    name: `CN=certflow ${escapeDn(caName)} root CA ${tag}, O=certflow`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + ROOT_DAYS * DAY_MS),
    signingAlgorithm: CA_SIGNING_ALGORITHM,
    keys: rootKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey),
    ],
  });
  const intermediate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialHex(),
    subject: `CN=certflow ${escapeDn(caName)} issuing CA ${tag}, O=certflow`,
    issuer: root.subject,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + INTERMEDIATE_DAYS * DAY_MS),
    signingAlgorithm: CA_SIGNING_ALGORITHM,
    publicKey: intermediateKeys.publicKey,
    signingKey: rootKeys.privateKey,
    extensions: [
      // Path length 0: the intermediate issues leaf certificates only, never another CA.
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(intermediateKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(rootKeys.publicKey),
    ],
  });
  return {
    rootCertPem: root.toString('pem') + '\n',
    rootKeyPem: await privateKeyPem(rootKeys.privateKey),
    intermediateCertPem: intermediate.toString('pem') + '\n',
    intermediateKeyPem: await privateKeyPem(intermediateKeys.privateKey),
  };
}

async function importCaKeyPair(keyPem: string): Promise<CryptoKeyPair> {
  const privateObject = createPrivateKey(keyPem);
  const curve = privateObject.asymmetricKeyDetails?.namedCurve;
  const namedCurve = curve === 'secp384r1' ? 'P-384' : curve === 'prime256v1' ? 'P-256' : null;
  if (!namedCurve) throw new Error(`the CA key is on an unsupported curve (${curve ?? 'unknown'})`);
  const algorithm = { name: 'ECDSA', namedCurve };
  const pkcs8 = privateObject.export({ format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(privateObject).export({ format: 'der', type: 'spki' });
  return {
    privateKey: await webcrypto.subtle.importKey('pkcs8', pkcs8, algorithm, false, ['sign']),
    publicKey: await webcrypto.subtle.importKey('spki', spki, algorithm, true, ['verify']),
  };
}

/** Imports the intermediate's keys and checks that the material holds together (keys match, chain verifies). */
export async function openCaMaterial(stored: StoredCaMaterial): Promise<OpenedCa> {
  const root = new x509.X509Certificate(stored.rootCertPem);
  const intermediate = new x509.X509Certificate(stored.intermediateCertPem);
  const intermediateKeys = await importCaKeyPair(stored.intermediateKeyPem);
  const spkiOf = async (key: webcrypto.CryptoKey) => Buffer.from(await webcrypto.subtle.exportKey('spki', key));
  if (!(await spkiOf(intermediateKeys.publicKey)).equals(Buffer.from(intermediate.publicKey.rawData))) {
    throw new Error('the intermediate key does not match the intermediate certificate');
  }
  const rootPublic = createPublicKey(stored.rootKeyPem);
  if (!rootPublic.export({ format: 'der', type: 'spki' }).equals(Buffer.from(root.publicKey.rawData))) {
    throw new Error('the root key does not match the root certificate');
  }
  if (!(await intermediate.verify({ publicKey: root.publicKey, signatureOnly: true }))) {
    throw new Error('the intermediate certificate is not signed by the root');
  }
  return {
    rootPem: stored.rootCertPem,
    intermediatePem: stored.intermediateCertPem,
    root,
    intermediate,
    intermediateKeys,
    rootFingerprintSha256: fingerprintSha256(stored.rootCertPem),
  };
}
