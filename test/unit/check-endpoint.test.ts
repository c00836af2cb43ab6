// The controller's endpoint check over a real TLS handshake (a Node TLS server on loopback): the served
// fingerprint, the chain to the given roots, the names (with SNI), the validity, an endpoint that does not
// answer, and retries while an endpoint still serves another certificate.
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext, createServer, type Server } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkEndpoint } from '../../controller/src/validation/check-endpoint.js';
import { issueLeaf, makePki, type IssuedLeaf, type TestPki } from '../support/deploy-pki.js';
import { closedPort } from '../support/free-port.js';

let dir: string;
let pki: TestPki;
let otherPki: TestPki;
let leaf: IssuedLeaf;
let other: IssuedLeaf;
const servers: Server[] = [];

const hex = (fingerprint: string) => fingerprint.replaceAll(':', '').toLowerCase();
const fullChain = (l: IssuedLeaf) => `${l.certificatePem.trim()}\n${l.chainPem}`;

async function serve(pem: string, keyPem: string, byName: Record<string, IssuedLeaf> = {}): Promise<number> {
  const server = createServer({
    cert: pem, key: keyPem,
    SNICallback: (name, callback) => {
      const chosen = byName[name];
      callback(null, chosen ? createSecureContext({ cert: fullChain(chosen), key: chosen.keyPem }) : undefined);
    },
  }, (socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return (server.address() as AddressInfo).port;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certflow-check-endpoint-'));
  pki = await makePki(join(dir, 'pki'));
  otherPki = await makePki(join(dir, 'other'));
  leaf = await issueLeaf(pki, ['shop.example', 'www.shop.example']);
  other = await issueLeaf(pki, ['other.example']);
});

afterAll(async () => {
  for (const server of servers) server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('checkEndpoint', () => {
  it('passes when the expected leaf is served with a chain to the trusted root and the name matches', async () => {
    const port = await serve(fullChain(leaf), leaf.keyPem);
    expect(await checkEndpoint({ host: '127.0.0.1', port, serverName: 'www.shop.example', expectedFingerprintSha256: hex(leaf.fingerprint256), trustedRootsPem: pki.rootPem }))
      .toEqual({ ok: true, servedFingerprint: hex(leaf.fingerprint256), attempts: 1 });
  });

  it('accepts the fingerprint in Node\'s colon form too', async () => {
    const port = await serve(fullChain(leaf), leaf.keyPem);
    expect((await checkEndpoint({ host: '127.0.0.1', port, serverName: 'shop.example', expectedFingerprintSha256: leaf.fingerprint256, trustedRootsPem: pki.rootPem })).ok).toBe(true);
  });

  it('reports another served certificate as a fingerprint failure, with what was served', async () => {
    const port = await serve(fullChain(other), other.keyPem);
    expect(await checkEndpoint({ host: '127.0.0.1', port, serverName: 'shop.example', expectedFingerprintSha256: hex(leaf.fingerprint256), trustedRootsPem: pki.rootPem, attempts: 2, retryDelayMs: 10 }))
      .toMatchObject({ ok: false, failure: 'fingerprint', servedFingerprint: hex(other.fingerprint256), attempts: 2 });
  });

  it('sends SNI: a server choosing its certificate by name serves the expected one only for that name', async () => {
    const port = await serve(fullChain(other), other.keyPem, { 'shop.example': leaf });
    expect((await checkEndpoint({ host: '127.0.0.1', port, serverName: 'shop.example', expectedFingerprintSha256: hex(leaf.fingerprint256), trustedRootsPem: pki.rootPem })).ok).toBe(true);
    expect((await checkEndpoint({ host: '127.0.0.1', port, serverName: 'other.example', expectedFingerprintSha256: hex(leaf.fingerprint256), trustedRootsPem: pki.rootPem })).failure).toBe('fingerprint');
  });

  it('fails on the chain for another CA\'s roots or a missing intermediate', async () => {
    const port = await serve(fullChain(leaf), leaf.keyPem);
    expect(await checkEndpoint({ host: '127.0.0.1', port, serverName: 'shop.example', expectedFingerprintSha256: hex(leaf.fingerprint256), trustedRootsPem: otherPki.rootPem }))
      .toMatchObject({ ok: false, failure: 'chain', servedFingerprint: hex(leaf.fingerprint256) });
    const leafOnly = await serve(leaf.certificatePem, leaf.keyPem);
    expect((await checkEndpoint({ host: '127.0.0.1', port: leafOnly, serverName: 'shop.example', expectedFingerprintSha256: hex(leaf.fingerprint256), trustedRootsPem: pki.rootPem })).failure).toBe('chain');
  });

  it('fails on the names when the certificate does not cover the server name', async () => {
    const port = await serve(fullChain(leaf), leaf.keyPem);
    const result = await checkEndpoint({ host: '127.0.0.1', port, serverName: 'shop.other', expectedFingerprintSha256: hex(leaf.fingerprint256), trustedRootsPem: pki.rootPem });
    expect(result).toMatchObject({ ok: false, failure: 'names' });
    expect(result.reason).toMatch(/shop\.other/);
  });

  it('fails on the validity outside the certificate\'s dates', async () => {
    const port = await serve(fullChain(leaf), leaf.keyPem);
    const later = new Date(Date.now() + 400 * 86_400_000);
    expect(await checkEndpoint({ host: '127.0.0.1', port, serverName: 'shop.example', expectedFingerprintSha256: hex(leaf.fingerprint256), trustedRootsPem: pki.rootPem, now: later }))
      .toMatchObject({ ok: false, failure: 'validity' });
  });

  it('reports an endpoint that does not answer as unreachable', async () => {
    const result = await checkEndpoint({ host: '127.0.0.1', port: await closedPort(), expectedFingerprintSha256: hex(leaf.fingerprint256) });
    expect(result).toMatchObject({ ok: false, failure: 'unreachable', servedFingerprint: null });
    expect(result.reason).toMatch(/ECONNREFUSED/);
  });
});
