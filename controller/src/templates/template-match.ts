// Auto-adoption: does a template's match rule select a certificate, and could two rules select the same
// one? Pure functions over the normalised match of a parsed template document.
//
// Semantics (docs/templates.md says the same to operators):
// - every dimension a rule names must hold; a dimension it leaves out does not constrain;
// - labels: the certificate has each label with that value;
// - domainPatterns: the certificate has at least one DNS name, and EACH of its names matches one of the
//   patterns ('*' is one whole leftmost label, as in TLS). "Each", not "any": otherwise a certificate for
//   a.com and b.com would belong to a template for a.com and to one for b.com at the same time;
// - hostGroups: the certificate is in at least one host group, and each of its host groups is listed
//   (the same reasoning);
// - issuers: the issuer DN contains one of the strings, ignoring case.
import type { TemplateMatch } from './template-document.js';

/** What matching looks at. Names are DNS names from the certificate's SANs (or its CN when it has none). */
export interface CertificateMatchFacts {
  dnsNames: string[];
  commonName: string | null;
  issuerDn: string;
  labels: Record<string, string>;
  hostGroups: string[];
}

const normalize = (name: string) => name.toLowerCase().replace(/\.$/, '');
const looksLikeDnsName = (s: string) => /^(\*\.)?[a-z0-9_-]+(\.[a-z0-9_-]+)+$/i.test(s);

/** The names matched against domain patterns: the SAN DNS names, or the CN when there are none (RFC 6125). */
export function certificateNames(cert: Pick<CertificateMatchFacts, 'dnsNames' | 'commonName'>): string[] {
  if (cert.dnsNames.length > 0) return cert.dnsNames.map(normalize);
  return cert.commonName && looksLikeDnsName(cert.commonName) ? [normalize(cert.commonName)] : [];
}

/** 'x.a.com' matches '*.a.com' and 'x.a.com'; 'a.com' and 'y.x.a.com' do not match '*.a.com'. */
export function nameMatchesPattern(name: string, pattern: string): boolean {
  const n = normalize(name);
  const p = normalize(pattern);
  if (!p.startsWith('*.')) return n === p;
  const suffix = p.slice(1); // '.a.com'
  if (!n.endsWith(suffix)) return false;
  const label = n.slice(0, -suffix.length);
  return label.length > 0 && !label.includes('.');
}

export function templateMatches(match: TemplateMatch | null, cert: CertificateMatchFacts): boolean {
  if (!match) return false;
  if (match.labels && !Object.entries(match.labels).every(([key, value]) => cert.labels[key] === value)) return false;
  if (match.hostGroups) {
    if (cert.hostGroups.length === 0 || !cert.hostGroups.every((g) => match.hostGroups!.includes(g))) return false;
  }
  if (match.domainPatterns) {
    const names = certificateNames(cert);
    if (names.length === 0 || !names.every((n) => match.domainPatterns!.some((p) => nameMatchesPattern(n, p)))) return false;
  }
  if (match.issuers) {
    const issuer = cert.issuerDn.toLowerCase();
    if (!match.issuers.some((s) => issuer.includes(s.toLowerCase()))) return false;
  }
  return true;
}

/** A name both patterns match, or null: wildcards overlap only with the same suffix or a name one label under it. */
function commonName(p: string, q: string): string | null {
  const [a, b] = [normalize(p), normalize(q)];
  const wildA = a.startsWith('*.');
  const wildB = b.startsWith('*.');
  if (wildA && wildB) return a === b ? `www.${a.slice(2)}` : null;
  if (wildA) return nameMatchesPattern(b, a) ? b : null;
  if (wildB) return nameMatchesPattern(a, b) ? a : null;
  return a === b ? a : null;
}

const exampleName = (pattern: string) => (pattern.startsWith('*.') ? `www.${pattern.slice(2)}` : pattern);

/**
 * A certificate both rules would adopt, or null when none exists. Dimensions are independent facts of a
 * certificate, so the rules overlap exactly when every dimension can be satisfied by both at once.
 */
export function overlapWitness(a: TemplateMatch | null, b: TemplateMatch | null): CertificateMatchFacts | null {
  if (!a || !b) return null;
  const labels: Record<string, string> = { ...a.labels };
  for (const [key, value] of Object.entries(b.labels ?? {})) {
    if (key in labels && labels[key] !== value) return null;
    labels[key] = value;
  }

  let hostGroups: string[] = [];
  if (a.hostGroups && b.hostGroups) {
    const shared = a.hostGroups.find((g) => b.hostGroups!.includes(g));
    if (shared === undefined) return null;
    hostGroups = [shared];
  } else if (a.hostGroups || b.hostGroups) {
    hostGroups = [(a.hostGroups ?? b.hostGroups)![0]];
  }

  let dnsNames: string[] = [];
  if (a.domainPatterns && b.domainPatterns) {
    let shared: string | null = null;
    for (const p of a.domainPatterns) {
      for (const q of b.domainPatterns) shared ??= commonName(p, q);
    }
    if (shared === null) return null;
    dnsNames = [shared];
  } else if (a.domainPatterns || b.domainPatterns) {
    dnsNames = [exampleName((a.domainPatterns ?? b.domainPatterns)![0])];
  }

  // Any two substrings fit in one DN, so issuers never keep two rules apart.
  const issuerDn = [a.issuers?.[0], b.issuers?.[0]].filter(Boolean).join(' ') || 'CN=Any CA';
  return { dnsNames, commonName: dnsNames[0] ?? null, issuerDn, labels, hostGroups };
}

/** Could one certificate match both rules? (A rule of null adopts nothing, so it overlaps nothing.) */
export function matchRulesOverlap(a: TemplateMatch | null, b: TemplateMatch | null): boolean {
  return overlapWitness(a, b) !== null;
}
