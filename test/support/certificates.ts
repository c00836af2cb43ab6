// Real certificates for tests, made at run time: a self-signed leaf by default, or one signed by a CA
// made here. ECDSA P-256, so generation takes milliseconds.
import { randomBytes } from 'node:crypto';
import { x509, ECDSA_P256, generateEcKeyPair } from '../../proto/shared/x509.js';

export interface TestCertificate {
  pem: string;
  der: Buffer;
  keys: CryptoKeyPair;
}

type CryptoKeyPair = Awaited<ReturnType<typeof generateEcKeyPair>>;

export async function makeCertificate(options: {
  commonName: string;
  dnsNames?: string[];
  notBefore?: Date;
  notAfter?: Date;
  issuer?: TestCertificate;
  isCa?: boolean;
}): Promise<TestCertificate> {
  const keys = await generateEcKeyPair();
  const notBefore = options.notBefore ?? new Date(Date.now() - 86_400_000);
  const notAfter = options.notAfter ?? new Date(Date.now() + 90 * 86_400_000);
  const extensions: x509.Extension[] = [new x509.BasicConstraintsExtension(Boolean(options.isCa), undefined, true)];
  if (options.dnsNames?.length) {
    extensions.push(new x509.SubjectAlternativeNameExtension(options.dnsNames.map((value) => ({ type: 'dns' as const, value }))));
  }
  const common = { serialNumber: '01' + randomBytes(8).toString('hex'), notBefore, notAfter, signingAlgorithm: ECDSA_P256, extensions };
  const cert = options.issuer
    ? await x509.X509CertificateGenerator.create({
      ...common,
      subject: `CN=${options.commonName}`,
      issuer: new x509.X509Certificate(options.issuer.der).subject,
      publicKey: keys.publicKey,
      signingKey: options.issuer.keys.privateKey,
    })
    : await x509.X509CertificateGenerator.createSelfSigned({ ...common, name: `CN=${options.commonName}`, keys });
  return { pem: cert.toString('pem') + '\n', der: Buffer.from(cert.rawData), keys };
}

export const days = (n: number) => new Date(Date.now() + n * 86_400_000);
