// The controller's own CA for agent identities. Created at first start; its key is kept in Postgres
// sealed under the master key. It issues client certificates to enrolled agents and, at every start, a
// server certificate for the gateway (that key lives only in the process's memory).
import { randomBytes, X509Certificate, type webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import { x509, ECDSA_P256, generateEcKeyPair, importEcKeyPair, privateKeyPem } from '../../../proto/shared/x509.js';

export const AGENT_URI_PREFIX = 'urn:certflow:agent:';

export interface AgentCa {
  certPem: string;
  /** SHA-256 of the CA certificate's DER, lowercase hex: what agents pin when they enrol. */
  fingerprintSha256: string;
  issueAgentCertificate(csrPem: string, agentId: string, days: number): Promise<IssuedCertificate>;
  issueServerCertificate(names: string[], days: number): Promise<{ certPem: string; keyPem: string }>;
  /** The agent id of a client certificate this CA issued and that is valid now; otherwise an error. */
  verifyAgentCertificate(certDer: Buffer, now?: Date): { agentId: string; serial: string };
}

export interface IssuedCertificate {
  certPem: string;
  serial: string;
  notAfter: Date;
}

export class InvalidCsrError extends Error {
  override name = 'InvalidCsrError';
}

export class AgentCertificateRejectedError extends Error {
  override name = 'AgentCertificateRejectedError';
}

export interface StoredAgentCa {
  certPem: string;
  keyPem: string;
}

export async function createAgentCaMaterial(): Promise<StoredAgentCa> {
  const keys = await generateEcKeyPair();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=certflow agent CA ${randomBytes(4).toString('hex')}, O=certflow`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 10 * 365 * 86_400_000),
    signingAlgorithm: ECDSA_P256,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await privateKeyPem(keys.privateKey) };
}

export async function openAgentCa(stored: StoredAgentCa): Promise<AgentCa> {
  const caCert = new x509.X509Certificate(stored.certPem);
  const caNode = new X509Certificate(stored.certPem);
  const caKeys = await importEcKeyPair(stored.keyPem);
  const caPublicKey = caNode.publicKey;

  async function sign(publicKey: webcrypto.CryptoKey, subject: string, days: number, extensions: x509.Extension[]) {
    const now = Date.now();
    const serial = randomSerial();
    const notAfter = new Date(now + days * 86_400_000);
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial,
      subject,
      issuer: caCert.subject,
      notBefore: new Date(now - 60_000),
      notAfter,
      signingAlgorithm: ECDSA_P256,
      publicKey,
      signingKey: caKeys.privateKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
        ...extensions,
      ],
    });
    return { certPem: cert.toString('pem') + '\n', serial: cert.serialNumber.toLowerCase(), notAfter };
  }

  return {
    certPem: stored.certPem,
    fingerprintSha256: caNode.fingerprint256.replaceAll(':', '').toLowerCase(),

    async issueAgentCertificate(csrPem, agentId, days) {
      let csr: x509.Pkcs10CertificateRequest;
      try {
        csr = new x509.Pkcs10CertificateRequest(csrPem);
      } catch (cause) {
        throw new InvalidCsrError('the certificate request is not a valid PKCS#10 CSR', { cause });
      }
      if (!(await csr.verify())) throw new InvalidCsrError('the certificate request signature does not verify');
      // The subject comes from the controller, never from the CSR: the agent cannot choose who it is.
      return sign(await csr.publicKey.export(), `CN=${agentId}, O=certflow agents`, days, [
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth], false),
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: AGENT_URI_PREFIX + agentId }], false),
      ]);
    },

    async issueServerCertificate(names, days) {
      const keys = await generateEcKeyPair();
      const san = names.map((n) => (isIP(n) ? { type: 'ip' as const, value: n } : { type: 'dns' as const, value: n }));
      const issued = await sign(keys.publicKey, `CN=${names[0] ?? 'certflow-controller'}, O=certflow`, days, [
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
        new x509.SubjectAlternativeNameExtension(san, false),
      ]);
      return { certPem: issued.certPem, keyPem: await privateKeyPem(keys.privateKey) };
    },

    verifyAgentCertificate(certDer, now = new Date()) {
      let cert: X509Certificate;
      try {
        cert = new X509Certificate(certDer);
      } catch (cause) {
        throw new AgentCertificateRejectedError('the client certificate cannot be parsed', { cause });
      }
      if (!cert.checkIssued(caNode) || !cert.verify(caPublicKey)) {
        throw new AgentCertificateRejectedError('the client certificate was not issued by this controller');
      }
      if (now < new Date(cert.validFrom) || now > new Date(cert.validTo)) {
        throw new AgentCertificateRejectedError('the client certificate is expired or not yet valid');
      }
      const uri = (cert.subjectAltName ?? '').split(', ').find((s) => s.startsWith('URI:' + AGENT_URI_PREFIX));
      if (!uri) throw new AgentCertificateRejectedError('the client certificate names no agent');
      return { agentId: uri.slice(4 + AGENT_URI_PREFIX.length), serial: cert.serialNumber.toLowerCase() };
    },
  };
}

function randomSerial(): string {
  // 16 random bytes, top bit cleared so the DER integer stays positive.
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f;
  return bytes.toString('hex');
}
