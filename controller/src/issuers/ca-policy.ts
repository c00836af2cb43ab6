// A CA's policy: which names it may certify, for how long, and for which key types. Every issuer checks
// it itself before anything is signed or ordered, so no caller can skip it.
import { isIP } from 'node:net';
import { z } from 'zod';
import { KEY_TYPES, type CaPolicy, type KeyType } from '../db/entities/certificate-authority.js';
import { IssuerPolicyError } from './issuer.js';

export type { CaPolicy, KeyType };

export const caPolicySchema = z.strictObject({
  allowedDomains: z.array(z.string().min(1).max(253)).default([]),
  maxValidityDays: z.int().min(1).max(3650),
  keyTypes: z.array(z.enum(KEY_TYPES)).min(1),
});

/** The built-in CA's policy at creation: any name, 90 days at most, every key type. */
export const DEFAULT_INTERNAL_POLICY: CaPolicy = { allowedDomains: [], maxValidityDays: 90, keyTypes: [...KEY_TYPES] };

/** The stored policy, checked: a hand-edited row with a broken policy fails loudly instead of allowing anything. */
export function parseCaPolicy(caName: string, value: unknown): CaPolicy {
  const parsed = caPolicySchema.safeParse(value);
  if (!parsed.success) {
    throw new IssuerPolicyError(`CA "${caName}" has an invalid policy: ${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}`);
  }
  return parsed.data;
}

/**
 * Whether `name` is covered by one `allowedDomains` entry:
 * - `example.com` covers example.com and every name below it (www.example.com, *.example.com, a.b.example.com);
 * - `*.example.com` covers exactly one label below example.com (www.example.com and *.example.com, not example.com);
 * - an IP address entry covers that address only.
 */
export function domainAllowed(name: string, entry: string): boolean {
  const n = name.toLowerCase().replace(/\.$/, '');
  const e = entry.toLowerCase().replace(/\.$/, '');
  if (isIP(e) || isIP(n)) return n === e;
  if (e.startsWith('*.')) {
    const base = e.slice(2);
    if (!n.endsWith('.' + base)) return false;
    const label = n.slice(0, -(base.length + 1));
    return label.length > 0 && !label.includes('.');
  }
  return n === e || n.endsWith('.' + e);
}

/** Throws IssuerPolicyError naming every name the policy does not allow. An empty list allows any name. */
export function checkNamesAllowed(caName: string, policy: CaPolicy, names: string[]): void {
  if (policy.allowedDomains.length === 0) return;
  const refused = names.filter((name) => !policy.allowedDomains.some((entry) => domainAllowed(name, entry)));
  if (refused.length) {
    throw new IssuerPolicyError(`CA "${caName}" may not issue for ${refused.map((n) => `"${n}"`).join(', ')}: ` +
      `its policy allows ${policy.allowedDomains.join(', ')}`);
  }
}

export function checkKeyTypeAllowed(caName: string, policy: CaPolicy, keyType: KeyType): void {
  if (!policy.keyTypes.includes(keyType)) {
    throw new IssuerPolicyError(`CA "${caName}" does not issue for ${keyType} keys: its policy allows ${policy.keyTypes.join(', ')}`);
  }
}

/** The validity to issue with: what was asked for (or the maximum), never more than the policy's maximum. */
export function cappedValidityDays(policy: CaPolicy, requested: number | undefined): number {
  if (requested !== undefined && (!Number.isInteger(requested) || requested < 1)) {
    throw new IssuerPolicyError(`validityDays must be a whole number of days, at least 1 (got ${requested})`);
  }
  return Math.min(requested ?? policy.maxValidityDays, policy.maxValidityDays);
}
