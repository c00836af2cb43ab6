// Best effort at the names a HAProxy frontend serves over TLS, from its routing rules: `use_backend X if
// { ssl_fc_sni -i NAME }` and named ACLs on ssl_fc_sni / req.ssl_sni used by use_backend. Only exact-string
// matches count; `-m end`, regexes, files of patterns and negations say nothing certain about names.
import type { CertificateEntry } from './haproxy-certificates.js';
import type { HaproxyLine } from './haproxy-syntax.js';
import { unique } from './service-binding.js';

const SNI_FETCHES = new Set(['ssl_fc_sni', 'req.ssl_sni', 'req_ssl_sni']);

export function routedSniNames(lines: HaproxyLine[]): string[] {
  const acls = new Map<string, string[]>();
  for (const { words } of lines) {
    const [keyword, name, fetch, ...rest] = words.map((w) => w.value);
    if (keyword !== 'acl' || name === undefined || fetch === undefined || !SNI_FETCHES.has(fetch)) continue;
    const values = exactValues(rest);
    if (values !== null) acls.set(name, [...(acls.get(name) ?? []), ...values]);
  }
  const names: string[] = [];
  for (const { words } of lines) {
    const values = words.map((w) => w.value);
    if (values[0] !== 'use_backend') continue;
    const ifAt = values.indexOf('if');
    if (ifAt === -1) continue;
    const condition = values.slice(ifAt + 1);
    for (let i = 0; i < condition.length; i++) {
      const term = condition[i];
      if (term === '!') {
        i++;
      } else if (term === '{') {
        const close = condition.indexOf('}', i);
        const [fetch, ...rest] = condition.slice(i + 1, close === -1 ? undefined : close);
        if (fetch !== undefined && SNI_FETCHES.has(fetch)) names.push(...(exactValues(rest) ?? []));
        if (close === -1) break;
        i = close;
      } else {
        names.push(...(acls.get(term) ?? []));
      }
    }
  }
  return unique(names);
}

// "-i a.example.com b.example.com" → the names; null when the match is not an exact string.
function exactValues(words: string[]): string[] | null {
  let i = 0;
  for (; i < words.length && words[i].startsWith('-'); i++) {
    const flag = words[i];
    if (flag === '--') {
      i++;
      break;
    }
    if (flag === '-m') {
      if (words[i + 1] !== 'str') return null;
      i++;
    } else if (flag === '-f' || flag === '-M') {
      return null;
    }
  }
  return words.slice(i).map((name) => name.toLowerCase());
}

/**
 * Adds each routed name to the certificates HAProxy would present for it: a crt-list line whose SNI filters
 * name it, else one whose own names match it (exactly, else by wildcard), else the bind's default
 * certificate, which is its first even when that has filters (checked against HAProxy 2.6), unless
 * strict-sni refuses names no certificate matches.
 */
export function assignRoutedNames(names: string[], entries: CertificateEntry[], strictSni: boolean): void {
  const candidates = entries.filter((entry) => !entry.filtered);
  for (const name of names) {
    if (entries.some((entry) => entry.filtered && entry.binding.serverNames.some((filter) => nameMatches(filter, name)))) continue;
    let chosen = candidates.filter((entry) => entry.certificateNames.includes(name));
    if (chosen.length === 0) chosen = candidates.filter((entry) => entry.certificateNames.some((n) => nameMatches(n, name)));
    if (chosen.length === 0 && !strictSni && entries[0] !== undefined) chosen = [entries[0]];
    for (const entry of chosen) {
      if (!entry.binding.serverNames.includes(name)) entry.binding.serverNames.push(name);
    }
  }
}

// "*.example.com" covers exactly one label, as in certificate matching.
function nameMatches(pattern: string, name: string): boolean {
  if (pattern === name) return true;
  if (!pattern.startsWith('*.')) return false;
  const dot = name.indexOf('.');
  return dot > 0 && name.slice(dot) === pattern.slice(1);
}
