// The one conformance suite every Issuer passes. An implementation's test file calls
// describeIssuerConformance() with a setup that gives an issuer, the root(s) its chains lead to and names
// its policy allows and forbids; the suite then checks, against the real CA:
// - the certificate carries the CSR's public key and exactly the requested names, for TLS servers;
// - its chain verifies to the root with openssl;
// - the same idempotency key returns the same certificate (and a different request under it is refused);
// - names the policy forbids, malformed CSRs, and CSRs whose names differ from the request are refused
//   with IssuerPolicyError (never IssuerUnavailableError: those must not fall back to another CA).
import { execFile } from 'node:child_process';
import { randomUUID, X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IssuerPolicyError, type Issuer, type IssueRequest } from '../../controller/src/issuers/issuer.js';
import { makeTestCsr, type TestKeyType } from './csr.js';

const execFileAsync = promisify(execFile);

export interface IssuerUnderTest {
  issuer: Issuer;
  /** PEM of the root(s) the issued chains must verify to. */
  rootsPem: string;
  /** A fresh DNS name the issuer's policy allows (different on every call). */
  allowedName(): string;
  /** A DNS name its policy forbids. */
  forbiddenName: string;
  /** The key types to issue for (default: ECDSA P-256 only). */
  keyTypes?: TestKeyType[];
  /** The validity the issuer grants at most, if it caps it: the suite asks for more and expects the cap. */
  maxValidityDays?: number;
}

export function describeIssuerConformance(label: string, setup: () => Promise<IssuerUnderTest>, teardown?: () => Promise<void>): void {
  describe(`Issuer conformance: ${label}`, () => {
    let t: IssuerUnderTest;
    let dir: string;

    beforeAll(async () => {
      t = await setup();
      dir = await mkdtemp(join(tmpdir(), 'certflow-issuer-'));
    });
    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
      await teardown?.();
    });

    async function opensslVerify(certificatePem: string, chainPem: string): Promise<string> {
      const id = randomUUID();
      const files = { leaf: join(dir, `${id}-leaf.pem`), chain: join(dir, `${id}-chain.pem`), roots: join(dir, `${id}-roots.pem`) };
      await writeFile(files.leaf, certificatePem);
      await writeFile(files.chain, chainPem);
      await writeFile(files.roots, t.rootsPem);
      const { stdout } = await execFileAsync('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver',
        '-CAfile', files.roots, '-untrusted', files.chain, files.leaf]);
      return stdout;
    }

    const request = (csrPem: string, dnsNames: string[], extra: Partial<IssueRequest> = {}): IssueRequest =>
      ({ csrPem, dnsNames, idempotencyKey: randomUUID(), ...extra });

    it('issues a server certificate with the CSR\'s public key and exactly the requested names, whose chain verifies to the root', async () => {
      for (const keyType of t.keyTypes ?? ['ecdsa-p256']) {
        const names = [t.allowedName(), t.allowedName()];
        const csr = await makeTestCsr({ dnsNames: names, commonName: names[0], keyType });
        const issued = await t.issuer.issue(request(csr.csrPem, names));
        const cert = new X509Certificate(issued.certificatePem);
        expect(cert.publicKey.export({ format: 'der', type: 'spki' }).equals(csr.spki), keyType).toBe(true);
        const sans = (cert.subjectAltName ?? '').split(', ').filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4)).sort();
        expect(sans).toEqual([...names].sort());
        expect(cert.ca).toBe(false);
        expect(cert.keyUsage ?? []).toContain('1.3.6.1.5.5.7.3.1'); // serverAuth (Node lists EKU OIDs here)
        expect(issued.serialHex).toBe(cert.serialNumber.toLowerCase());
        expect(issued.fingerprintSha256).toBe(cert.fingerprint256.replaceAll(':', '').toLowerCase());
        expect(issued.notBefore.getTime()).toBe(new Date(cert.validFrom).getTime());
        expect(issued.notAfter.getTime()).toBe(new Date(cert.validTo).getTime());
        expect(await opensslVerify(issued.certificatePem, issued.chainPem)).toMatch(/: OK/);
      }
    });

    it('caps the validity at the policy\'s maximum', async () => {
      if (!t.maxValidityDays) return;
      const name = t.allowedName();
      const csr = await makeTestCsr({ dnsNames: [name] });
      const issued = await t.issuer.issue(request(csr.csrPem, [name], { validityDays: t.maxValidityDays + 100 }));
      const days = (issued.notAfter.getTime() - Date.now()) / 86_400_000;
      expect(days).toBeLessThanOrEqual(t.maxValidityDays + 0.01);
      expect(days).toBeGreaterThan(t.maxValidityDays - 1);
    });

    it('returns the same certificate for the same idempotency key, and refuses the key for a different request', async () => {
      const name = t.allowedName();
      const csr = await makeTestCsr({ dnsNames: [name] });
      const req = request(csr.csrPem, [name]);
      const first = await t.issuer.issue(req);
      const [second, third] = await Promise.all([t.issuer.issue({ ...req }), t.issuer.issue({ ...req })]);
      expect(second).toEqual(first);
      expect(third).toEqual(first);
      const other = await makeTestCsr({ dnsNames: [name] });
      await expect(t.issuer.issue({ ...req, csrPem: other.csrPem })).rejects.toThrow(IssuerPolicyError);
    });

    it('issues once when the same new key is asked for concurrently', async () => {
      const name = t.allowedName();
      const csr = await makeTestCsr({ dnsNames: [name] });
      const req = request(csr.csrPem, [name]);
      const results = await Promise.all([1, 2, 3].map(() => t.issuer.issue({ ...req })));
      expect(new Set(results.map((r) => r.fingerprintSha256)).size).toBe(1);
    });

    it('refuses names the policy forbids with IssuerPolicyError naming them', async () => {
      const names = [t.allowedName(), t.forbiddenName];
      const csr = await makeTestCsr({ dnsNames: names });
      const failure = t.issuer.issue(request(csr.csrPem, names));
      await expect(failure).rejects.toThrow(IssuerPolicyError);
      await expect(failure).rejects.toThrow(t.forbiddenName);
    });

    it('refuses a malformed CSR with a clear IssuerPolicyError', async () => {
      const name = t.allowedName();
      await expect(t.issuer.issue(request('not a csr', [name]))).rejects.toThrow(IssuerPolicyError);
      await expect(t.issuer.issue(request('not a csr', [name]))).rejects.toThrow(/CSR/);
      const garbage = '-----BEGIN CERTIFICATE REQUEST-----\nAAAAAAAA\n-----END CERTIFICATE REQUEST-----\n';
      await expect(t.issuer.issue(request(garbage, [name]))).rejects.toThrow(/not a valid PKCS#10/);
      // A CSR whose signature was made by another key: the requester does not hold the key it names.
      const good = await makeTestCsr({ dnsNames: [name] });
      const body = Buffer.from(good.csrPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
      body[body.length - 5] ^= 0xff;
      const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${body.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
      await expect(t.issuer.issue(request(tampered, [name]))).rejects.toThrow(IssuerPolicyError);
    });

    it('refuses a CSR whose names differ from the requested names', async () => {
      const [a, b, c] = [t.allowedName(), t.allowedName(), t.allowedName()];
      const more = await makeTestCsr({ dnsNames: [a, b] });
      await expect(t.issuer.issue(request(more.csrPem, [a]))).rejects.toThrow(/CSR requests .* but the certificate must name exactly/);
      const fewer = await makeTestCsr({ dnsNames: [a] });
      await expect(t.issuer.issue(request(fewer.csrPem, [a, b]))).rejects.toThrow(IssuerPolicyError);
      const otherCn = await makeTestCsr({ dnsNames: [a], commonName: c });
      await expect(t.issuer.issue(request(otherCn.csrPem, [a]))).rejects.toThrow(/common name/);
    });
  });
}
