// A key sealed to an agent's identity key opens only with that key, only for the labels it was sealed
// with, and not after any byte of it changed. EC identities (what agents enrol with) and RSA ones.
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openKey, publicKeySha256, sealKey, KeyEnvelopeError, type EnvelopeLabels } from '../../agent/src/keys/key-envelope.js';

const pem = (k: KeyObject) => k.export({ type: 'pkcs8', format: 'pem' }) as string;
const shared = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
const labels: EnvelopeLabels = { keyId: 'r-1', runId: 'run-1', senderAgentId: 'a', recipientAgentId: 'b', publicKeySha256: publicKeySha256(shared) };
const identities = {
  'EC P-256': generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  'RSA 2048': generateKeyPairSync('rsa', { modulusLength: 2048 }),
};

describe('key envelopes', () => {
  for (const [name, identity] of Object.entries(identities)) {
    it(`seals to a ${name} identity and opens with it, to the same key`, () => {
      const sealed = sealKey(pem(shared), identity.publicKey, labels);
      expect(sealed.ciphertext).not.toContain(pem(shared).split('\n')[1]!.slice(0, 20));
      const opened = openKey(sealed, pem(identity.privateKey), { keyId: 'r-1', recipientAgentId: 'b' });
      expect(publicKeySha256(createPrivateKey(opened))).toBe(labels.publicKeySha256);
    });
  }

  it('refuses an envelope opened by another agent, for another key, or with changed labels or bytes', () => {
    const identity = identities['EC P-256'];
    const sealed = sealKey(pem(shared), identity.publicKey, labels);
    const open = (e: typeof sealed, key = pem(identity.privateKey), expected = { keyId: 'r-1', recipientAgentId: 'b' }) => () => openKey(e, key, expected);
    expect(open(sealed, pem(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey))).toThrow(KeyEnvelopeError);
    expect(open(sealed, undefined, { keyId: 'r-2', recipientAgentId: 'b' })).toThrow(/for key "r-1"/);
    expect(open(sealed, undefined, { keyId: 'r-1', recipientAgentId: 'c' })).toThrow(/not this agent/);
    expect(open({ ...sealed, runId: 'run-2' })).toThrow(/integrity/);
    expect(open({ ...sealed, senderAgentId: 'x' })).toThrow(/integrity/);
    const bytes = Buffer.from(sealed.ciphertext, 'base64');
    bytes[5] ^= 1;
    expect(open({ ...sealed, ciphertext: bytes.toString('base64') })).toThrow(/integrity/);
    expect(open({ ...sealed, algorithm: 'rsa-oaep-sha256-aes-256-gcm' })).toThrow(/does not fit/);
  });
});
