// The issue stage's last word on what an issuer returns, whatever the CA: the certificate must certify the
// host's key (the CSR's) and exactly the names asked for. A CA that returns anything else fails the run.
import { createHash, webcrypto } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { IssuedCertificate } from '../../controller/src/issuers/issuer.js';
import { PermanentStageError } from '../../controller/src/workflow/stage-handler.js';
import { checkIssued } from '../../controller/src/workflow/stages/issue.js';
import { makeCertificate, type TestCertificate } from '../support/certificates.js';

const issued = (cert: TestCertificate): IssuedCertificate => ({
  certificatePem: cert.pem, chainPem: '', serialHex: '01', notBefore: new Date(), notAfter: new Date(), fingerprintSha256: '',
});

async function keyHash(cert: TestCertificate): Promise<string> {
  const spki = Buffer.from(await webcrypto.subtle.exportKey('spki', cert.keys.publicKey));
  return createHash('sha256').update(spki).digest('hex');
}

describe('checkIssued', () => {
  it('accepts the CSR\'s key with exactly the names asked for (in any order and case)', async () => {
    const cert = await makeCertificate({ commonName: 'a.example', dnsNames: ['a.example', 'www.a.example'] });
    const hash = (await keyHash(cert)).toUpperCase();
    expect(() => checkIssued(issued(cert), hash, ['WWW.a.example', 'a.example'])).not.toThrow();
  });

  it('refuses a certificate for another key than the CSR\'s', async () => {
    const cert = await makeCertificate({ commonName: 'a.example', dnsNames: ['a.example'] });
    const other = await makeCertificate({ commonName: 'a.example', dnsNames: ['a.example'] });
    const csrKey = await keyHash(cert);
    expect(() => checkIssued(issued(other), csrKey, ['a.example'])).toThrow(PermanentStageError);
    expect(() => checkIssued(issued(other), csrKey, ['a.example'])).toThrow('the CA returned a certificate whose public key is not the one in the CSR');
  });

  it('refuses a certificate whose names differ: one missing, one extra', async () => {
    const cert = await makeCertificate({ commonName: 'a.example', dnsNames: ['a.example', 'evil.example'] });
    const hash = await keyHash(cert);
    expect(() => checkIssued(issued(cert), hash, ['a.example'])).toThrow('the CA returned a certificate for a.example, evil.example, not a.example');
    expect(() => checkIssued(issued(cert), hash, ['a.example', 'evil.example', 'b.example'])).toThrow(/not a\.example, b\.example, evil\.example/);
  });
});
