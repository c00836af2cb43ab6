// A makeCsr job sent again (the controller was killed before it recorded the answer and resends
// unanswered jobs when the agent reconnects) gets the same CSR for the same key; another request for a
// used key id is still refused, and the key is never replaced.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCsr } from '../../agent/src/keys/make-csr.js';

let stateDir: string;
beforeEach(async () => { stateDir = await mkdtemp(join(tmpdir(), 'certflow-csr-again-')); });
afterEach(async () => { await rm(stateDir, { recursive: true, force: true }); });

const request = { keyId: 'r-1234abcd-0011223344556677-0', keyType: 'ecdsa-p256', commonName: 'a.example', dnsNames: ['a.example'], ipAddresses: [] };

describe('makeCsr sent again', () => {
  it('answers the same request with the same CSR and key', async () => {
    const first = await makeCsr(stateDir, request);
    const key = await readFile(join(stateDir, 'keys', `${request.keyId}.pem`), 'utf8');
    const again = await makeCsr(stateDir, { ...request, dnsNames: [...request.dnsNames] });
    expect(again).toEqual(first);
    expect(await readFile(join(stateDir, 'keys', `${request.keyId}.pem`), 'utf8')).toBe(key);
    // The stored answer is public data and lives outside the key store.
    expect(await readdir(join(stateDir, 'keys'))).toEqual([`${request.keyId}.pem`]);
  });

  it('two runs of one job at once make one key and give both the same answer', async () => {
    const [a, b] = await Promise.all([makeCsr(stateDir, request), makeCsr(stateDir, request)]);
    expect(a).toEqual(b);
  });

  it('refuses another request for a used key id, keeping the key', async () => {
    await makeCsr(stateDir, request);
    const key = await readFile(join(stateDir, 'keys', `${request.keyId}.pem`), 'utf8');
    await expect(makeCsr(stateDir, { ...request, dnsNames: ['b.example'], commonName: 'b.example' })).rejects.toThrow(/already exists/);
    expect(await readFile(join(stateDir, 'keys', `${request.keyId}.pem`), 'utf8')).toBe(key);
  });
});
