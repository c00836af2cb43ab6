// The exporting side of a shared key, without a controller: refused unless the agent's config allows it,
// and sealed only to identity certificates from the agent CA this agent pinned that name the recipient.
// What it seals opens with the recipient's identity key and nothing else.
import { createPrivateKey } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportKey } from '../../agent/src/keys/export-key.js';
import { openKey, publicKeySha256 } from '../../agent/src/keys/key-envelope.js';
import { makeCsr } from '../../agent/src/keys/make-csr.js';
import { saveIdentity } from '../../agent/src/identity/identity-store.js';
import { newKeyAndCsr } from '../../agent/src/identity/key-and-csr.js';
import { createAgentCaMaterial, openAgentCa, type AgentCa } from '../../controller/src/crypto/agent-ca.js';
import type { ExportKeyJob__Output } from '../../proto/generated/certflow/agent/v1/ExportKeyJob.js';

let dir: string;
let ca: AgentCa;
let keyHash: string;
const recipient = { agentId: '22222222-2222-4222-8222-222222222222', keyPem: '', certPem: '' };

async function agentIdentity(agentCa: AgentCa, agentId: string) {
  const { keyPem, csrPem } = await newKeyAndCsr(agentId);
  return { keyPem, certPem: (await agentCa.issueAgentCertificate(csrPem, agentId, 30)).certPem };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certflow-export-'));
  ca = await openAgentCa(await createAgentCaMaterial());
  const self = await agentIdentity(ca, '11111111-1111-4111-8111-111111111111');
  await saveIdentity(dir, { agentId: '11111111-1111-4111-8111-111111111111', ...self, caPem: ca.certPem });
  Object.assign(recipient, await agentIdentity(ca, recipient.agentId));
  keyHash = (await makeCsr(dir, { keyId: 'shared-1', keyType: 'ecdsa-p256', commonName: 'a.example', dnsNames: ['a.example'], ipAddresses: [] })).publicKeySha256;
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const job = (extra: Partial<ExportKeyJob__Output> = {}): ExportKeyJob__Output => ({
  keyId: 'shared-1', publicKeySha256: keyHash, runId: 'run-1',
  recipients: [{ agentId: recipient.agentId, identityCertificatePem: recipient.certPem }], ...extra,
});
const allowed = () => ({ stateDir: dir, keys: { allowExport: true } });

describe('exporting a shared key', () => {
  it('is refused when the agent\'s config does not allow it, naming the setting', async () => {
    await expect(exportKey({ stateDir: dir, keys: { allowExport: false } }, job())).rejects.toThrow(/keys\.allowExport false/);
  });

  it('seals the key to the recipient, which opens it to the same key', async () => {
    const output = await exportKey(allowed(), job());
    expect(output.blobs).toHaveLength(1);
    const opened = openKey(output.blobs![0]!, recipient.keyPem, { keyId: 'shared-1', recipientAgentId: recipient.agentId });
    expect(publicKeySha256(createPrivateKey(opened))).toBe(keyHash);
  });

  it('refuses a certificate from another CA, one naming another agent, and a key that is not the certificate\'s', async () => {
    const foreign = await agentIdentity(await openAgentCa(await createAgentCaMaterial()), recipient.agentId);
    await expect(exportKey(allowed(), job({ recipients: [{ agentId: recipient.agentId, identityCertificatePem: foreign.certPem }] })))
      .rejects.toThrow(/not issued by the agent CA this agent trusts/);
    await expect(exportKey(allowed(), job({ recipients: [{ agentId: '33333333-3333-4333-8333-333333333333', identityCertificatePem: recipient.certPem }] })))
      .rejects.toThrow(/names another agent/);
    await expect(exportKey(allowed(), job({ publicKeySha256: '00'.repeat(32) }))).rejects.toThrow(/not the key of the issued certificate/);
    await expect(exportKey(allowed(), job({ keyId: 'nope' }))).rejects.toThrow(/has no key "nope"/);
  });
});
