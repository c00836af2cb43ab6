// The HTTP layer under acme-client (acme-transport.ts) against a small HTTPS stand-in for an ACME server
// that hands out nonces and refuses any nonce it did not issue or that was used already, the way Pebble
// and Boulder do. It answers HEAD newNonce without a Content-Length, as Go servers do (after which Node
// closes the connection). Checked: signed requests reuse one TLS connection and take their nonces from
// earlier answers (a HEAD only when none is kept), a nonce is never sent twice, a refused (stale) nonce
// costs one retry with the nonce of the refusal, the account key works parsed, and trust stays with the
// origin it was given for.
import * as acme from 'acme-client';
import { execFileSync } from 'node:child_process';
import { KeyObject, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trustForOrigin, tuneClient, withAcmeContext } from '../../controller/src/issuers/acme/acme-transport.js';
import { freePort } from '../support/free-port.js';

interface StandIn {
  url: string;
  pem: string;
  server: Server;
  /** TLS connections accepted, HEAD newNonce requests, badNonce answers, nonces accepted (in order). */
  stats: { connections: number; heads: number; badNonces: number; accepted: string[] };
  /** Refuse the next N valid nonces as stale (badNonce). */
  refuseNext: number;
}

const dir = mkdtempSync(join(tmpdir(), 'certflow-acme-transport-'));
const standIns: StandIn[] = [];

function selfSigned(name: string): { key: string; cert: string } {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.pem`)], { stdio: 'pipe' });
  return { key: readFileSync(join(dir, `${name}.key`), 'utf8'), cert: readFileSync(join(dir, `${name}.pem`), 'utf8') };
}

async function startStandIn(name: string): Promise<StandIn> {
  const { key, cert } = selfSigned(name);
  const port = await freePort();
  const base = `https://127.0.0.1:${port}`;
  const issued = new Set<string>();
  const nonce = () => {
    const value = randomBytes(12).toString('base64url');
    issued.add(value);
    return value;
  };
  const standIn: StandIn = {
    url: `${base}/dir`, pem: cert, refuseNext: 0,
    stats: { connections: 0, heads: 0, badNonces: 0, accepted: [] },
    server: createServer({ key, cert }, (req, res) => {
      if (req.method === 'HEAD' && req.url === '/nonce') {
        standIn.stats.heads++;
        res.writeHead(200, { 'replay-nonce': nonce(), 'cache-control': 'no-store' });
        return res.end();
      }
      if (req.method === 'GET' && req.url === '/dir') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ newNonce: `${base}/nonce`, newAccount: `${base}/account`, newOrder: `${base}/order` }));
      }
      let body = '';
      req.setEncoding('utf8').on('data', (d) => (body += d)).on('end', () => {
        const header = JSON.parse(Buffer.from(JSON.parse(body).protected, 'base64url').toString('utf8')) as { nonce: string };
        if (!issued.delete(header.nonce) || standIn.refuseNext-- > 0) {
          standIn.stats.badNonces++;
          res.writeHead(400, { 'content-type': 'application/problem+json', 'replay-nonce': nonce() });
          return res.end(JSON.stringify({ type: 'urn:ietf:params:acme:error:badNonce', detail: 'JWS has an invalid anti-replay nonce' }));
        }
        standIn.stats.accepted.push(header.nonce);
        res.writeHead(req.url === '/account' ? 201 : 200, { 'content-type': 'application/json', 'replay-nonce': nonce(), location: `${base}/account/1` });
        res.end(JSON.stringify({ status: 'valid', contact: [] }));
      });
    }),
  };
  standIn.server.on('secureConnection', () => standIn.stats.connections++);
  await new Promise<void>((resolve) => standIn.server.listen(port, '127.0.0.1', resolve));
  standIns.push(standIn);
  return standIn;
}

const inContext = <T>(fn: () => Promise<T>) => withAcmeContext({ maxRetryAfterMs: 0 }, fn);

let ca: StandIn;
let client: acme.Client;

beforeAll(async () => {
  acme.setLogger(() => undefined);
  ca = await startStandIn('ca');
  trustForOrigin(ca.url, ca.pem);
  client = new acme.Client({ directoryUrl: ca.url, accountKey: await acme.crypto.createPrivateEcdsaKey() });
  // As the ACME issuer does with each client it makes.
  tuneClient(client);
});

afterAll(async () => {
  for (const s of standIns) s.server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ACME transport', () => {
  it('sends signed requests over one kept-alive connection, each with a nonce from an earlier answer', async () => {
    await inContext(() => client.createAccount({ termsOfServiceAgreed: true }));
    for (let i = 0; i < 5; i++) await inContext(() => client.updateAccount());
    expect(ca.stats.accepted).toHaveLength(6);
    expect(new Set(ca.stats.accepted).size).toBe(6);
    expect(ca.stats.badNonces).toBe(0);
    // The first signed request needs a HEAD (nothing kept yet); every later one uses the previous answer's nonce.
    expect(ca.stats.heads).toBe(1);
    // Node closes the connection the HEAD was answered on (no Content-Length); the six POSTs share the next.
    expect(ca.stats.connections).toBe(2);
    // Signed with the parsed account key, not the PEM parsed again for every request.
    expect((client as unknown as { http: { accountKey: unknown } }).http.accountKey).toBeInstanceOf(KeyObject);
  });

  it('requests running at once each get their own nonce', async () => {
    const before = ca.stats.accepted.length;
    await Promise.all(Array.from({ length: 8 }, () => inContext(() => client.updateAccount())));
    const accepted = ca.stats.accepted.slice(before);
    expect(accepted).toHaveLength(8);
    expect(new Set(accepted).size).toBe(8);
    expect(ca.stats.badNonces).toBe(0);
  });

  it('a nonce refused as stale costs one retry with the nonce of the refusal, which is not kept for another request', async () => {
    const heads = ca.stats.heads;
    ca.refuseNext = 1;
    await inContext(() => client.updateAccount());
    expect(ca.stats.badNonces).toBe(1);
    // Had the refusal's nonce also been kept, one of these would send it a second time and be refused.
    await Promise.all(Array.from({ length: 3 }, () => inContext(() => client.updateAccount())));
    expect(ca.stats.badNonces).toBe(1);
    expect(ca.stats.heads - heads).toBeLessThanOrEqual(3);
  });

  it('trusts a PEM only for the origin it was given for', async () => {
    const other = await startStandIn('other');
    const get = (url: string) => inContext(() => acme.axios.get(url));
    await expect(get(other.url)).rejects.toThrow(/self[- ]signed certificate/);
    trustForOrigin(other.url, other.pem);
    expect((await get(other.url)).status).toBe(200);
    // The first CA's PEM does not vouch for the other's certificate, nor the other way round.
    trustForOrigin(other.url, ca.pem);
    await expect(get(other.url)).rejects.toThrow(/self[- ]signed certificate/);
    expect((await get(ca.url)).status).toBe(200);
  });
});
