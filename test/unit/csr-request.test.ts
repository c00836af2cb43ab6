// checkCsr's signature check (ECDSA and RSA PKCS#1 v1.5 through node's crypto, anything else through the
// x509 library) and its memory of CSRs already read: a remembered CSR is still held to each request's
// names, and a changed byte is a different CSR that is read (and refused) again.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkCsr, InvalidCsrError } from '../../controller/src/issuers/csr-request.js';
import { makeTestCsr, type TestKeyType } from '../support/csr.js';

const dir = mkdtempSync(join(tmpdir(), 'certflow-csr-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const request = (csrPem: string, dnsNames: string[]) => ({ csrPem, dnsNames, idempotencyKey: 'k' });

/** The PEM with one byte of its DER changed by `edit`. */
function tampered(pem: string, edit: (der: Buffer) => void): string {
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  edit(der);
  const body = der.toString('base64').match(/.{1,64}/g)!.join('\n');
  return `-----BEGIN CERTIFICATE REQUEST-----\n${body}\n-----END CERTIFICATE REQUEST-----\n`;
}

/** A CSR made by openssl with extra `req` options (e.g. an RSA-PSS signature). */
function opensslCsr(name: string, keyArgs: string[], extra: string[] = []): string {
  const key = join(dir, `${name}.key`);
  execFileSync('openssl', ['genpkey', ...keyArgs, '-out', key], { stdio: 'pipe' });
  execFileSync('openssl', ['req', '-new', '-key', key, '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`, ...extra,
    '-out', join(dir, `${name}.csr`)], { stdio: 'pipe' });
  return readFileSync(join(dir, `${name}.csr`), 'utf8');
}

describe('checkCsr signatures', () => {
  it.each<TestKeyType>(['ecdsa-p256', 'ecdsa-p384', 'rsa-2048'])('accepts a %s CSR signed by its own key', async (keyType) => {
    const csr = await makeTestCsr({ dnsNames: [`${keyType}.example.test`], keyType });
    expect((await checkCsr(request(csr.csrPem, [`${keyType}.example.test`]))).keyType).toBe(keyType);
  });

  it('accepts openssl CSRs: ECDSA, RSA PKCS#1 v1.5 with SHA-384, and RSA-PSS (checked by the x509 library)', async () => {
    const ec = opensslCsr('ec.example.test', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']);
    expect((await checkCsr(request(ec, ['ec.example.test']))).keyType).toBe('ecdsa-p256');
    const rsa = opensslCsr('rsa.example.test', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], ['-sha384']);
    expect((await checkCsr(request(rsa, ['rsa.example.test']))).keyType).toBe('rsa-2048');
    const pss = opensslCsr('pss.example.test', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
      ['-sha256', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32']);
    expect((await checkCsr(request(pss, ['pss.example.test']))).keyType).toBe('rsa-2048');
    const pssTampered = tampered(pss, (der) => {
      der[der.indexOf('pss.example.test')] = 'q'.charCodeAt(0);
    });
    await expect(checkCsr(request(pssTampered, ['qss.example.test']))).rejects.toThrow(/signature does not verify/);
  });

  it('refuses a CSR whose signed part or signature was changed', async () => {
    const csr = await makeTestCsr({ dnsNames: ['a.example.test'] });
    await checkCsr(request(csr.csrPem, ['a.example.test']));
    // The name in the SAN changed to b.example.test (asked for as such, so only the signature can refuse it).
    const renamed = tampered(csr.csrPem, (der) => {
      der[der.indexOf('a.example.test')] = 'b'.charCodeAt(0);
    });
    await expect(checkCsr(request(renamed, ['b.example.test']))).rejects.toThrow(/signature does not verify/);
    const badSignature = tampered(csr.csrPem, (der) => {
      der[der.length - 2] ^= 0x01;
    });
    await expect(checkCsr(request(badSignature, ['a.example.test']))).rejects.toThrow(InvalidCsrError);
  });

  it('checks a remembered CSR against each request\'s names, and does not carry one check into the next', async () => {
    const cnOnly = await makeTestCsr({ commonName: 'only.example.test' });
    for (let i = 0; i < 2; i++) {
      expect((await checkCsr(request(cnOnly.csrPem, ['only.example.test']))).dnsNames).toEqual(['only.example.test']);
    }
    await expect(checkCsr(request(cnOnly.csrPem, ['only.example.test', 'more.example.test']))).rejects.toThrow(/must name exactly/);
    await expect(checkCsr(request(cnOnly.csrPem, ['other.example.test']))).rejects.toThrow(/common name/);
    expect((await checkCsr(request(cnOnly.csrPem, ['only.example.test']))).dnsNames).toEqual(['only.example.test']);
  });
});
