// The check before anything is written: the key matches the certificate, the names are covered, the
// certificate is valid now, and the chain links up.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MaterialRefusedError, checkMaterial, coversName } from '../../agent/src/deploy/material-check.js';
import { issueLeaf, makePki, type IssuedLeaf, type TestPki } from '../support/deploy-pki.js';

let dir: string;
let pki: TestPki;
let shop: IssuedLeaf;
let other: IssuedLeaf;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certflow-material-'));
  pki = await makePki(dir);
  shop = await issueLeaf(pki, ['shop.example', '*.shop.example']);
  other = await issueLeaf(pki, ['other.example'], { key: 'rsa' });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const problemOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MaterialRefusedError);
    return (err as MaterialRefusedError).problem;
  }
  return 'accepted';
};

describe('checkMaterial', () => {
  it('accepts a matching key, covered names and a linked chain, and gives the fingerprint', () => {
    const checked = checkMaterial(shop, ['shop.example', 'www.shop.example', '*.shop.example']);
    expect(checked.fingerprint256).toBe(shop.fingerprint256);
    expect(checked.names).toEqual(['shop.example', '*.shop.example']);
    expect(checked.chain).toHaveLength(1);
  });

  it('refuses a key that belongs to another certificate', () => {
    expect(problemOf(() => checkMaterial({ ...shop, keyPem: other.keyPem }, []))).toBe('key-mismatch');
  });

  it('refuses a certificate that does not cover an expected name', () => {
    expect(problemOf(() => checkMaterial(shop, ['shop.example', 'api.example']))).toBe('names');
    expect(problemOf(() => checkMaterial(shop, ['a.b.shop.example']))).toBe('names');
  });

  it('refuses a certificate outside its validity', () => {
    expect(problemOf(() => checkMaterial(shop, [], new Date(Date.now() + 365 * 86_400_000)))).toBe('expired');
    expect(problemOf(() => checkMaterial(shop, [], new Date(Date.now() - 86_400_000)))).toBe('not-yet-valid');
  });

  it('refuses a chain whose first certificate did not issue the leaf', () => {
    expect(problemOf(() => checkMaterial({ ...shop, chainPem: pki.rootPem }, []))).toBe('chain');
  });

  it('refuses unreadable input and more than one leaf', () => {
    expect(problemOf(() => checkMaterial({ ...shop, keyPem: 'not a key' }, []))).toBe('unreadable');
    expect(problemOf(() => checkMaterial({ ...shop, certificatePem: shop.certificatePem + other.certificatePem }, []))).toBe('unreadable');
    expect(problemOf(() => checkMaterial({ ...shop, certificatePem: '' }, []))).toBe('unreadable');
  });

  it('matches a wildcard expected name only against the same wildcard', async () => {
    const { X509Certificate } = await import('node:crypto');
    const leaf = new X509Certificate(shop.certificatePem);
    expect(coversName(leaf, '*.shop.example')).toBe(true);
    expect(coversName(leaf, '*.example')).toBe(false);
    expect(coversName(leaf, 'SHOP.example')).toBe(true);
  });
});
