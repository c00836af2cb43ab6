// Auto-adoption rules: which certificates a rule selects, and whether two rules could select the same
// certificate. Every "overlaps" answer comes with a witness certificate, checked against both rules.
import { describe, expect, it } from 'vitest';
import { matchSchema, type TemplateMatch } from '../../controller/src/templates/template-document.js';
import {
  certificateNames, matchRulesOverlap, nameMatchesPattern, overlapWitness, templateMatches, type CertificateMatchFacts,
} from '../../controller/src/templates/template-match.js';

const rule = (input: unknown): TemplateMatch => matchSchema.parse(input);
const cert = (over: Partial<CertificateMatchFacts>): CertificateMatchFacts => ({
  dnsNames: [], commonName: null, issuerDn: 'CN=R11, O=Let\'s Encrypt, C=US', labels: {}, hostGroups: [], ...over,
});

describe('nameMatchesPattern', () => {
  it.each([
    ['x.a.com', '*.a.com', true],
    ['X.A.COM.', '*.a.com', true],
    ['*.a.com', '*.a.com', true],
    ['a.com', '*.a.com', false],
    ['y.x.a.com', '*.a.com', false],
    ['xa.com', '*.a.com', false],
    ['a.com', 'a.com', true],
    ['www.a.com', 'a.com', false],
    ['*.a.com', 'x.a.com', false],
  ] as const)('%s against %s: %s', (name, pattern, expected) => {
    expect(nameMatchesPattern(name, pattern)).toBe(expected);
  });
});

describe('certificateNames', () => {
  it('uses the SAN DNS names, or the CN when there are none and it is a DNS name', () => {
    expect(certificateNames({ dnsNames: ['A.com', 'www.a.com'], commonName: 'other.com' })).toEqual(['a.com', 'www.a.com']);
    expect(certificateNames({ dnsNames: [], commonName: 'legacy.a.com' })).toEqual(['legacy.a.com']);
    expect(certificateNames({ dnsNames: [], commonName: 'My Company Server' })).toEqual([]);
    expect(certificateNames({ dnsNames: [], commonName: null })).toEqual([]);
  });
});

describe('templateMatches', () => {
  const cases: Array<[string, unknown, Partial<CertificateMatchFacts>, boolean]> = [
    ['labels: all present with their values', { labels: { env: 'prod', team: 'web' } }, { labels: { env: 'prod', team: 'web', x: '1' } }, true],
    ['labels: one value differs', { labels: { env: 'prod', team: 'web' } }, { labels: { env: 'prod', team: 'db' } }, false],
    ['labels: one missing', { labels: { env: 'prod' } }, { labels: {} }, false],
    ['domains: every name covered', { domainPatterns: ['a.com', '*.a.com'] }, { dnsNames: ['a.com', 'www.a.com'] }, true],
    ['domains: one name not covered', { domainPatterns: ['*.a.com'] }, { dnsNames: ['a.com', 'www.a.com'] }, false],
    ['domains: two levels under a wildcard', { domainPatterns: ['*.a.com'] }, { dnsNames: ['x.y.a.com'] }, false],
    ['domains: a wildcard certificate under a wildcard pattern', { domainPatterns: ['*.a.com'] }, { dnsNames: ['*.a.com'] }, true],
    ['domains: CN only', { domainPatterns: ['*.a.com'] }, { commonName: 'legacy.a.com' }, true],
    ['domains: a certificate without DNS names', { domainPatterns: ['*.a.com'] }, { commonName: 'Internal Signing' }, false],
    ['host groups: all of the certificate\'s groups listed', { hostGroups: ['prod', 'dmz'] }, { hostGroups: ['prod'] }, true],
    ['host groups: one group not listed', { hostGroups: ['prod'] }, { hostGroups: ['prod', 'staging'] }, false],
    ['host groups: a certificate on no host group', { hostGroups: ['prod'] }, { hostGroups: [] }, false],
    ['issuers: substring, any case', { issuers: ['let\'s encrypt'] }, {}, true],
    ['issuers: none of them', { issuers: ['DigiCert', 'Sectigo'] }, {}, false],
    ['all dimensions hold', { labels: { env: 'prod' }, domainPatterns: ['*.a.com'], issuers: ['R11'] },
      { labels: { env: 'prod' }, dnsNames: ['x.a.com'] }, true],
    ['one dimension of several fails', { labels: { env: 'prod' }, domainPatterns: ['*.a.com'], issuers: ['DigiCert'] },
      { labels: { env: 'prod' }, dnsNames: ['x.a.com'] }, false],
  ];
  it.each(cases)('%s', (_what, match, facts, expected) => {
    expect(templateMatches(rule(match), cert(facts))).toBe(expected);
  });

  it('never matches without a rule', () => {
    expect(templateMatches(null, cert({ dnsNames: ['a.com'] }))).toBe(false);
  });
});

describe('matchRulesOverlap', () => {
  const cases: Array<[string, unknown, unknown, boolean]> = [
    ['a wildcard and a name one label under it', { domainPatterns: ['*.a.com'] }, { domainPatterns: ['x.a.com'] }, true],
    ['a wildcard and its own base name', { domainPatterns: ['*.a.com'] }, { domainPatterns: ['a.com'] }, false],
    ['a wildcard and a name two labels under it', { domainPatterns: ['*.a.com'] }, { domainPatterns: ['x.y.a.com'] }, false],
    ['two wildcards at different depths', { domainPatterns: ['*.a.com'] }, { domainPatterns: ['*.b.a.com'] }, false],
    ['the same wildcard', { domainPatterns: ['*.a.com'] }, { domainPatterns: ['*.A.com.'] }, true],
    ['different names', { domainPatterns: ['a.com'] }, { domainPatterns: ['b.com'] }, false],
    ['lists sharing one name', { domainPatterns: ['a.com', 'b.com'] }, { domainPatterns: ['c.com', 'b.com'] }, true],
    ['the same label key with different values', { labels: { env: 'prod' } }, { labels: { env: 'staging' } }, false],
    ['different label keys', { labels: { env: 'prod' } }, { labels: { team: 'web' } }, true],
    ['the same labels', { labels: { env: 'prod' } }, { labels: { env: 'prod' } }, true],
    ['a dimension only one side constrains', { labels: { env: 'prod' } }, { domainPatterns: ['a.com'] }, true],
    ['labels disjoint, domains shared', { labels: { env: 'prod' }, domainPatterns: ['a.com'] }, { labels: { env: 'dev' }, domainPatterns: ['a.com'] }, false],
    ['labels shared, domains disjoint', { labels: { env: 'prod' }, domainPatterns: ['a.com'] }, { labels: { env: 'prod' }, domainPatterns: ['b.com'] }, false],
    ['disjoint host groups', { hostGroups: ['prod'] }, { hostGroups: ['staging'] }, false],
    ['host groups sharing one', { hostGroups: ['prod', 'dmz'] }, { hostGroups: ['dmz'] }, true],
    ['different issuers (one DN can contain both)', { issuers: ['DigiCert'] }, { issuers: ['Sectigo'] }, true],
    ['issuers cannot separate otherwise disjoint rules', { issuers: ['DigiCert'], hostGroups: ['a'] }, { issuers: ['DigiCert'], hostGroups: ['b'] }, false],
  ];

  it.each(cases)('%s: %s', (_what, a, b, expected) => {
    const [ra, rb] = [rule(a), rule(b)];
    expect(matchRulesOverlap(ra, rb)).toBe(expected);
    expect(matchRulesOverlap(rb, ra)).toBe(expected);
    const witness = overlapWitness(ra, rb);
    if (expected) {
      // The certificate the overlap names really is adopted by both rules.
      expect(templateMatches(ra, witness!)).toBe(true);
      expect(templateMatches(rb, witness!)).toBe(true);
    } else {
      expect(witness).toBeNull();
    }
  });

  it('a rule of null overlaps nothing', () => {
    expect(matchRulesOverlap(null, rule({ labels: { env: 'prod' } }))).toBe(false);
    expect(matchRulesOverlap(rule({ labels: { env: 'prod' } }), null)).toBe(false);
  });
});
