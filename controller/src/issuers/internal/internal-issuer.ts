// The built-in CA as an Issuer: signs server certificates from CSRs with its intermediate, after the CSR,
// the names and the key type pass the CA's policy, at most once per idempotency key. It also revokes
// what it issued and publishes a CRL.
import type { EntityManager } from '@mikro-orm/postgresql';
import { createHash } from 'node:crypto';
import { x509 } from '../../../../proto/shared/x509.js';
import type { SecretBox } from '../../crypto/master-key.js';
import { cappedValidityDays, checkKeyTypeAllowed, checkNamesAllowed, type CaPolicy } from '../ca-policy.js';
import { checkCsr, type CheckedCsr } from '../csr-request.js';
import { findRecorded, issueOnce, listRevoked, revokeRecorded, type RevocationResult } from '../issued-records.js';
import {
  IssuerUnavailableError, type HealthCheckedIssuer, type IssueRequest, type IssuedCertificate, type RevokingIssuer,
} from '../issuer.js';
import { CA_SIGNING_ALGORITHM, randomSerialHex, type OpenedCa } from './ca-material.js';
import { buildCrl } from './crl.js';
import { openInternalCa } from './internal-ca-store.js';

const DAY_MS = 86_400_000;

export interface InternalCaRow {
  id: string;
  name: string;
  policy: CaPolicy;
  disabled: boolean;
}

export interface InternalIssuerOptions {
  /** The controller's public base URL; issued certificates point at `<publicUrl>/crl/<name>.crl`. */
  publicUrl?: string;
}

/** Where a CA's CRL and chain are published, relative to the controller's public base URL. */
export function crlPath(caName: string): string {
  return `/crl/${encodeURIComponent(caName)}.crl`;
}
export function chainPath(caName: string): string {
  return `/ca/${encodeURIComponent(caName)}.pem`;
}

function escapeDn(value: string): string {
  return value.replace(/[,+="\\<>;#]/g, '\\$&');
}

export class InternalIssuer implements HealthCheckedIssuer, RevokingIssuer {
  readonly kind = 'internal' as const;

  constructor(
    private readonly em: EntityManager,
    private readonly box: SecretBox,
    private readonly ca: InternalCaRow,
    private readonly options: InternalIssuerOptions = {},
  ) {}

  get name(): string {
    return this.ca.name;
  }

  get policy(): CaPolicy {
    return this.ca.policy;
  }

  /** The URL issued certificates name as their CRL distribution point, or null without a public URL. */
  get crlUrl(): string | null {
    return this.options.publicUrl ? this.options.publicUrl.replace(/\/+$/, '') + crlPath(this.ca.name) : null;
  }

  private async open(): Promise<OpenedCa> {
    try {
      return await openInternalCa(this.em, this.box, this.ca);
    } catch (cause) {
      throw new IssuerUnavailableError((cause as Error).message, { cause });
    }
  }

  async issue(req: IssueRequest, signal?: AbortSignal): Promise<IssuedCertificate> {
    signal?.throwIfAborted();
    if (this.ca.disabled) throw new IssuerUnavailableError(`CA "${this.ca.name}" is disabled`);
    // A recorded certificate comes back even if the policy has changed since it was issued.
    const previous = await findRecorded(this.em, this.ca, req);
    if (previous) return previous;

    const checked = await checkCsr(req);
    const names = [...checked.dnsNames, ...checked.ipAddresses];
    checkNamesAllowed(this.ca.name, this.ca.policy, names);
    checkKeyTypeAllowed(this.ca.name, this.ca.policy, checked.keyType);
    const days = cappedValidityDays(this.ca.policy, req.validityDays);
    const ca = await this.open();
    signal?.throwIfAborted();

    return issueOnce(this.em, this.ca, req, names, async () => {
      const now = Date.now();
      const notAfter = new Date(now + days * DAY_MS);
      if (notAfter > ca.intermediate.notAfter) {
        throw new IssuerUnavailableError(`CA "${this.ca.name}": its intermediate expires ${ca.intermediate.notAfter.toISOString()}, ` +
          `before the ${days}-day certificate would`);
      }
      return this.sign(ca, checked, new Date(now - 60_000), notAfter);
    });
  }

  private async sign(ca: OpenedCa, checked: CheckedCsr, notBefore: Date, notAfter: Date): Promise<IssuedCertificate> {
    const first = checked.commonName ?? checked.dnsNames[0] ?? checked.ipAddresses[0];
    // A common name longer than X.520 allows is left out; the names are in the SAN, which is then critical.
    const subject = first.length <= 64 ? `CN=${escapeDn(first)}` : '';
    const isRsa = checked.keyType.startsWith('rsa-');
    const extensions: x509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | (isRsa ? x509.KeyUsageFlags.keyEncipherment : 0), true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension([
        ...checked.dnsNames.map((value) => ({ type: 'dns' as const, value })),
        ...checked.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
      ], subject === ''),
      await x509.SubjectKeyIdentifierExtension.create(checked.csr.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.intermediateKeys.publicKey),
    ];
    if (this.crlUrl) extensions.push(new x509.CRLDistributionPointsExtension([this.crlUrl]));
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerialHex(),
      subject,
      issuer: ca.intermediate.subject,
      notBefore,
      notAfter,
      signingAlgorithm: CA_SIGNING_ALGORITHM,
      publicKey: checked.csr.publicKey,
      signingKey: ca.intermediateKeys.privateKey,
      extensions,
    });
    return {
      certificatePem: cert.toString('pem') + '\n',
      chainPem: ca.intermediatePem,
      serialHex: cert.serialNumber.toLowerCase(),
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
      fingerprintSha256: createHash('sha256').update(Buffer.from(cert.rawData)).digest('hex'),
    };
  }

  /** Healthy when enabled, its keys unseal and match, and its intermediate outlives a maximum-validity certificate. */
  async health(signal?: AbortSignal): Promise<{ healthy: boolean; detail: string }> {
    signal?.throwIfAborted();
    if (this.ca.disabled) return { healthy: false, detail: 'disabled' };
    let ca: OpenedCa;
    try {
      ca = await this.open();
    } catch (err) {
      return { healthy: false, detail: (err as Error).message };
    }
    const now = Date.now();
    const remainingDays = Math.floor((ca.intermediate.notAfter.getTime() - now) / DAY_MS);
    if (ca.intermediate.notBefore.getTime() > now) {
      return { healthy: false, detail: `the intermediate is not valid before ${ca.intermediate.notBefore.toISOString()}` };
    }
    if (remainingDays <= this.ca.policy.maxValidityDays) {
      return {
        healthy: false,
        detail: `the intermediate expires ${ca.intermediate.notAfter.toISOString()} (${remainingDays} days), ` +
          `within the ${this.ca.policy.maxValidityDays}-day maximum validity`,
      };
    }
    return { healthy: true, detail: `keys unsealed; intermediate valid until ${ca.intermediate.notAfter.toISOString()}` };
  }

  async revoke(serialHex: string, reason?: string): Promise<void> {
    await this.revokeCertificate(serialHex, reason);
  }

  /** Revokes and says what happened (for the admin API and its audit entry). */
  revokeCertificate(serialHex: string, reason?: string): Promise<RevocationResult> {
    return revokeRecorded(this.em, this.ca, serialHex, reason);
  }

  /** The current CRL, DER. */
  async crl(now = new Date()): Promise<Buffer> {
    const ca = await this.open();
    return buildCrl(ca, await listRevoked(this.em, this.ca.id), now);
  }

  /** The intermediate then the root, PEM: what a client needs to trust and build the chain. */
  async caChainPem(): Promise<string> {
    const ca = await this.open();
    return ca.intermediatePem + ca.rootPem;
  }

  async rootPem(): Promise<string> {
    return (await this.open()).rootPem;
  }
}
