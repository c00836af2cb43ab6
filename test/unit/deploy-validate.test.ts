// Validation over a real TLS handshake (a Node TLS server on loopback): the served fingerprint, the chain to
// the given roots, the names, the validity, and the retries that let a reload settle.
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fullChainPem } from '../../agent/src/deploy/pem-bundle.js';
import { validateEndpoint, type ValidateOptions } from '../../agent/src/deploy/validate.js';
import { issueLeaf, makePki, type IssuedLeaf, type TestPki } from '../support/deploy-pki.js';
import { freePort } from '../support/free-port.js';

let dir: string;
let pki: TestPki;
let otherPki: TestPki;
let leaf: IssuedLeaf;
const servers: Server[] = [];

async function serve(pem: string, keyPem: string): Promise<{ port: number; server: Server }> {
  const server = createServer({ cert: pem, key: keyPem }, (socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { port: (server.address() as AddressInfo).port, server };
}

const options = (extra: Partial<ValidateOptions> = {}): ValidateOptions => ({
  expectedFingerprint256: leaf.fingerprint256, caRoots: [pki.rootPem], signal: AbortSignal.timeout(10_000),
  settings: { attempts: 3, intervalMs: 50, firstIntervalMs: 20, handshakeTimeoutMs: 2000 }, ...extra,
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certflow-validate-'));
  pki = await makePki(join(dir, 'pki'));
  otherPki = await makePki(join(dir, 'other'));
  leaf = await issueLeaf(pki, ['shop.example', 'www.shop.example']);
});

afterAll(async () => {
  for (const server of servers) server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('validateEndpoint', () => {
  it('passes when the new certificate is served with a chain to the root and matching names', async () => {
    const { port } = await serve(fullChainPem(leaf), leaf.keyPem);
    const result = await validateEndpoint({ host: '127.0.0.1', port, serverName: 'www.shop.example' }, options());
    // Three handshakes in a row must serve it (DEFAULT_VALIDATION_SETTINGS.confirmations): one proves only that a reload began.
    expect(result).toMatchObject({ ok: true, servedFingerprint256: leaf.fingerprint256, attempts: 3 });
  });

  it('fails on the chain when the roots are another CA\'s, or the intermediate is not served', async () => {
    const { port } = await serve(fullChainPem(leaf), leaf.keyPem);
    expect(await validateEndpoint({ host: '127.0.0.1', port, serverName: 'shop.example' }, options({ caRoots: [otherPki.rootPem] })))
      .toMatchObject({ ok: false, failure: 'chain', attempts: 3 });
    const leafOnly = await serve(leaf.certificatePem, leaf.keyPem);
    const result = await validateEndpoint({ host: '127.0.0.1', port: leafOnly.port, serverName: 'shop.example' }, options());
    expect(result).toMatchObject({ ok: false, failure: 'chain' });
    expect(result.reason).toMatch(/does not verify to the CA roots \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\)/);
  });

  it('fails on the names when the server name is not the certificate\'s', async () => {
    const { port } = await serve(fullChainPem(leaf), leaf.keyPem);
    expect(await validateEndpoint({ host: '127.0.0.1', port, serverName: 'api.example' }, options()))
      .toMatchObject({ ok: false, failure: 'names' });
  });

  it('fails on the validity when the certificate is not valid at the time of checking', async () => {
    const { port } = await serve(fullChainPem(leaf), leaf.keyPem);
    expect(await validateEndpoint({ host: '127.0.0.1', port, serverName: 'shop.example' }, options({ now: () => new Date(Date.now() + 400 * 86_400_000) })))
      .toMatchObject({ ok: false, failure: 'validity' });
  });

  it('retries while another certificate is served and reports it', async () => {
    const other = await issueLeaf(pki, ['shop.example']);
    const { port } = await serve(fullChainPem(other), other.keyPem);
    const result = await validateEndpoint({ host: '127.0.0.1', port, serverName: 'shop.example' }, options());
    expect(result).toMatchObject({ ok: false, failure: 'fingerprint', servedFingerprint256: other.fingerprint256, attempts: 3 });
  });

  it('succeeds on a later attempt once the reload has settled', async () => {
    const other = await issueLeaf(pki, ['shop.example']);
    const { port, server } = await serve(fullChainPem(other), other.keyPem);
    setTimeout(() => server.setSecureContext({ cert: fullChainPem(leaf), key: leaf.keyPem }), 100);
    const result = await validateEndpoint({ host: '127.0.0.1', port, serverName: 'shop.example' },
      options({ settings: { attempts: 10, intervalMs: 100, firstIntervalMs: 20, handshakeTimeoutMs: 2000 } }));
    expect(result.ok).toBe(true);
    expect(result.attempts).toBeGreaterThan(1);
  });

  it('reports an endpoint that does not answer as unreachable', async () => {
    const port = await freePort();
    const result = await validateEndpoint({ host: '127.0.0.1', port, serverName: 'shop.example' }, options());
    expect(result).toMatchObject({ ok: false, failure: 'unreachable', servedFingerprint256: null, attempts: 3 });
    expect(result.reason).toMatch(/ECONNREFUSED/);
  });
});
