// CA policy and CSR checks on their own (no database): which names a policy entry covers, the validity
// cap, serials as people paste them, and what a CSR may ask for.
import { describe, expect, it } from 'vitest';
import { cappedValidityDays, checkNamesAllowed, domainAllowed, parseCaPolicy, DEFAULT_INTERNAL_POLICY } from '../../controller/src/issuers/ca-policy.js';
import { canonicalIp, checkCsr, InvalidCsrError } from '../../controller/src/issuers/csr-request.js';
import { normalizeSerial } from '../../controller/src/issuers/issued-records.js';
import { IssuerPolicyError } from '../../controller/src/issuers/issuer.js';
import { makeTestCsr } from '../support/csr.js';

describe('domainAllowed', () => {
  it.each([
    ['example.com', 'example.com', true],
    ['www.example.com', 'example.com', true],
    ['a.b.example.com', 'example.com', true],
    ['*.example.com', 'example.com', true],
    ['badexample.com', 'example.com', false],
    ['example.com.evil.test', 'example.com', false],
    ['WWW.Example.COM.', 'example.com', true],
    ['www.example.com', '*.example.com', true],
    ['*.example.com', '*.example.com', true],
    ['example.com', '*.example.com', false],
    ['a.b.example.com', '*.example.com', false],
    ['10.0.0.1', '10.0.0.1', true],
    ['10.0.0.1', '10.0.0.0', false],
    ['10.0.0.1', 'example.com', false],
  ])('%s under %s: %s', (name, entry, allowed) => {
    expect(domainAllowed(name, entry)).toBe(allowed);
  });

  it('names every refused name, and an empty list allows anything', () => {
    const policy = { ...DEFAULT_INTERNAL_POLICY, allowedDomains: ['example.com'] };
    expect(() => checkNamesAllowed('ca', policy, ['www.example.com', 'a.test', 'b.test'])).toThrow(/may not issue for "a.test", "b.test"/);
    expect(() => checkNamesAllowed('ca', DEFAULT_INTERNAL_POLICY, ['anything.test'])).not.toThrow();
  });
});

describe('policy values', () => {
  it('caps the validity and defaults to the maximum', () => {
    expect(cappedValidityDays(DEFAULT_INTERNAL_POLICY, undefined)).toBe(90);
    expect(cappedValidityDays(DEFAULT_INTERNAL_POLICY, 30)).toBe(30);
    expect(cappedValidityDays(DEFAULT_INTERNAL_POLICY, 400)).toBe(90);
    expect(() => cappedValidityDays(DEFAULT_INTERNAL_POLICY, 0)).toThrow(IssuerPolicyError);
    expect(() => cappedValidityDays(DEFAULT_INTERNAL_POLICY, 1.5)).toThrow(IssuerPolicyError);
  });

  it('refuses a broken stored policy instead of allowing everything', () => {
    expect(() => parseCaPolicy('x', { allowedDomains: [], maxValidityDays: 90, keyTypes: ['dsa-1024'] })).toThrow(/invalid policy: keyTypes/);
    expect(() => parseCaPolicy('x', { maxValidityDays: 90 })).toThrow(IssuerPolicyError);
  });

  it('reads serials as openssl prints them', () => {
    expect(normalizeSerial('01:AB:cd')).toBe('1abcd');
    expect(normalizeSerial('0x00FF')).toBe('ff');
    expect(() => normalizeSerial('xyz')).toThrow(/not a hexadecimal serial/);
  });
});

describe('checkCsr', () => {
  it('accepts a CSR whose only name is its common name, and compares IPv6 addresses in any notation', async () => {
    const cnOnly = await makeTestCsr({ commonName: 'only.example.test' });
    expect((await checkCsr({ csrPem: cnOnly.csrPem, dnsNames: ['only.example.test'], idempotencyKey: 'k' })).dnsNames).toEqual(['only.example.test']);
    const v6 = await makeTestCsr({ ipAddresses: ['2001:db8:0:0:0:0:0:1'] });
    const checked = await checkCsr({ csrPem: v6.csrPem, dnsNames: [], ipAddresses: ['2001:DB8::1'], idempotencyKey: 'k' });
    expect(checked.ipAddresses).toEqual([canonicalIp('2001:db8::1')]);
    expect(checked.keyType).toBe('ecdsa-p256');
  });

  it('refuses requests without names, with bad names, or with names the CSR does not carry', async () => {
    const csr = await makeTestCsr({ dnsNames: ['a.example.test'] });
    await expect(checkCsr({ csrPem: csr.csrPem, dnsNames: [], idempotencyKey: 'k' })).rejects.toThrow(/names no DNS name/);
    await expect(checkCsr({ csrPem: csr.csrPem, dnsNames: ['bad name'], idempotencyKey: 'k' })).rejects.toThrow(/is not a DNS name/);
    await expect(checkCsr({ csrPem: csr.csrPem, dnsNames: ['a.example.test'], ipAddresses: ['999.1.1.1'], idempotencyKey: 'k' }))
      .rejects.toThrow(/is not an IP address/);
    await expect(checkCsr({ csrPem: csr.csrPem, dnsNames: ['b.example.test'], idempotencyKey: 'k' })).rejects.toThrow(InvalidCsrError);
  });
});
