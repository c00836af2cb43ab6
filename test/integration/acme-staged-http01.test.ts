// The two halves of http-01 through the agent, without the workflow around them: the ACME issuer's staged
// steps (StagedIssuer: prepare, then complete) against a real Pebble, answered by the agent's own
// Http01Challenges (the code an Http01Challenge job runs), and that agent code's limits on its own.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Http01Challenges } from '../../agent/src/acme/http01-challenges.js';
import type { AgentConfig } from '../../agent/src/config.js';
import type { Http01ChallengeJob__Output } from '../../proto/generated/certflow/agent/v1/Http01ChallengeJob.js';
import { createSecretBox, type SecretBox } from '../../controller/src/crypto/master-key.js';
import { KEY_TYPES } from '../../controller/src/db/entities/certificate-authority.js';
import { createOrm, migrate, type Orm } from '../../controller/src/db/orm.js';
import { AcmeChallengeError } from '../../controller/src/issuers/acme/acme-errors.js';
import { forgetPreparedOrders, type AcmeIssuer } from '../../controller/src/issuers/acme/acme-issuer.js';
import { saveAcmeCa } from '../../controller/src/issuers/acme/acme-store.js';
import { loadIssuer } from '../../controller/src/issuers/issuer-registry.js';
import { IssuerPolicyError, isStaged, type IssueRequest } from '../../controller/src/issuers/issuer.js';
import { makeTestCsr } from '../support/csr.js';
import { freePort } from '../support/free-port.js';
import { startPebble, type RunningPebble } from '../support/pebble.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

let db: TestDatabase;
let orm: Orm;
let pebble: RunningPebble;
let box: SecretBox;
let dir: string;
const silent = pino({ level: 'silent' });

beforeAll(async () => {
  [db, pebble] = await Promise.all([createTestDatabase(), startPebble()]);
  orm = await createOrm(db.url);
  await orm.connect();
  await migrate(orm);
  box = createSecretBox(randomBytes(32));
  dir = await mkdtemp(join(tmpdir(), 'certflow-http01-unit-'));
});

afterAll(async () => {
  await orm?.close();
  await Promise.all([db?.drop(), pebble?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

function agentConfig(ports: number[], allowedPaths: string[] = [dir], maxServeSeconds = 900): AgentConfig {
  return { acme: { http01: { ports, maxServeSeconds } }, deploy: { allowedPaths } } as unknown as AgentConfig;
}

function job(fields: Partial<Http01ChallengeJob__Output>): Http01ChallengeJob__Output {
  return { action: 'start', challengeId: `c-${randomUUID()}`, tokens: [], port: 0, bindAddress: '', webroot: '', ttlSeconds: 0, ...fields };
}

const token = () => randomBytes(32).toString('base64url');
const keyAuth = (t: string) => `${t}.${randomBytes(32).toString('base64url')}`;

async function fetchToken(port: number, t: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/.well-known/acme-challenge/${t}`);
  return { status: res.status, body: await res.text() };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

async function http01Ca(): Promise<AcmeIssuer> {
  const name = `ca-${randomUUID().slice(0, 8)}`;
  await saveAcmeCa(orm.em.fork(), box, {
    name, policy: { allowedDomains: ['acme.test'], maxValidityDays: 3650, keyTypes: [...KEY_TYPES] },
    config: { directoryUrl: pebble.directoryUrl, trustPem: pebble.tlsTrustPem, challenge: { type: 'http-01', port: pebble.httpChallengePort, bindAddress: '127.0.0.1' } },
  });
  return await loadIssuer(orm.em.fork(), box, name) as AcmeIssuer;
}

async function request(): Promise<IssueRequest> {
  const base = `h${randomUUID().slice(0, 8)}.acme.test`;
  const names = [base, `www.${base}`];
  return { csrPem: (await makeTestCsr({ dnsNames: names })).csrPem, dnsNames: names, idempotencyKey: randomUUID() };
}

async function orderUrl(idempotencyKey: string): Promise<string | undefined> {
  const [row] = await orm.em.fork().getConnection().execute<{ order_url: string }[]>('select order_url from acme_orders where idempotency_key = ?', [idempotencyKey]);
  return row?.order_url;
}

describe('StagedIssuer (ACME, http-01 answered by the agent code)', () => {
  it('prepare resumes the same order (same tokens); complete validates it once served; repeats return the recorded certificate', async () => {
    const issuer = await http01Ca();
    expect(isStaged(issuer)).toBe(true);
    expect(await issuer.agentHttp01()).toEqual({ port: pebble.httpChallengePort, bindAddress: '127.0.0.1', serveSeconds: 600 });
    const req = await request();

    const first = await issuer.prepare(req);
    expect(first.challenges.map((c) => c.identifier).sort()).toEqual([...req.dnsNames].sort());
    const url = await orderUrl(req.idempotencyKey);
    // A controller that died before the agent job was committed prepares again: the same order and tokens.
    const again = await issuer.prepare(req);
    const byName = (list: typeof first.challenges) => [...list].sort((x, y) => x.identifier.localeCompare(y.identifier));
    expect(byName(again.challenges)).toEqual(byName(first.challenges));
    expect(await orderUrl(req.idempotencyKey)).toBe(url);

    const agent = new Http01Challenges(agentConfig([pebble.httpChallengePort]), silent);
    const start = job({ port: pebble.httpChallengePort, bindAddress: '127.0.0.1', tokens: first.challenges.map(({ token: t, keyAuthorization }) => ({ token: t, keyAuthorization })) });
    expect(await agent.run(start)).toMatchObject({ status: 'serving', mode: 'port', port: pebble.httpChallengePort });
    try {
      const cert = await issuer.complete(req);
      expect(cert.certificatePem).toContain('BEGIN CERTIFICATE');
      // Once recorded: the same certificate, and nothing left to prepare.
      expect((await issuer.complete(req)).serialHex).toBe(cert.serialHex);
      expect((await issuer.prepare(req)).challenges).toEqual([]);
    } finally {
      expect(await agent.run({ ...start, action: 'stop' })).toMatchObject({ status: 'stopped' });
    }
    expect(await listening(pebble.httpChallengePort)).toBe(false);
  }, 60_000);

  it('complete with nothing served fails with the CA\'s words, and never places a second order', async () => {
    const issuer = await http01Ca();
    const req = await request();
    await issuer.prepare(req);
    const url = await orderUrl(req.idempotencyKey);
    await expect(issuer.complete(req)).rejects.toThrow(AcmeChallengeError);
    await expect(issuer.complete(req)).rejects.toThrow(/the order .* is invalid: .*connection refused/);
    expect(await orderUrl(req.idempotencyKey)).toBe(url);
  }, 60_000);

  it('complete on a replica that did not prepare the order (nothing remembered) reads it back from the CA and issues', async () => {
    const issuer = await http01Ca();
    const req = await request();
    const { challenges } = await issuer.prepare(req);
    forgetPreparedOrders();
    const agent = new Http01Challenges(agentConfig([pebble.httpChallengePort]), silent);
    const start = job({ port: pebble.httpChallengePort, bindAddress: '127.0.0.1', tokens: challenges.map(({ token: t, keyAuthorization }) => ({ token: t, keyAuthorization })) });
    expect(await agent.run(start)).toMatchObject({ status: 'serving' });
    try {
      expect((await issuer.complete(req)).certificatePem).toContain('BEGIN CERTIFICATE');
    } finally {
      await agent.run({ ...start, action: 'stop' });
    }
  }, 60_000);

  // Pebble never answers orderNotReady once every authorization is valid, so the CA's side is a stand-in here:
  // a client whose first finalize is refused the way acmeError words that answer.
  it('finalizes as soon as the authorizations are valid; a CA that says orderNotReady is asked for the order first', async () => {
    const issuer = await http01Ca();
    const finalizeAuthorized = (client: unknown, order: object) =>
      (issuer as unknown as { finalizeAuthorized(c: unknown, o: object, csr: string): Promise<{ status: string }> }).finalizeAuthorized(client, order, 'csr');
    const standIn = (orderStatusWhenAsked: string) => {
      const calls: string[] = [];
      let refused = false;
      return {
        calls,
        finalizeOrder: async (order: { status: string }) => {
          calls.push(`finalize ${order.status}`);
          if (!refused) {
            refused = true;
            throw new IssuerPolicyError('CA "stand-in" (ACME finalize): Order\'s status ("pending") is not acceptable for finalization [orderNotReady]');
          }
          return { ...order, status: 'processing' };
        },
        getOrder: async (order: object) => {
          calls.push('getOrder');
          return { ...order, status: orderStatusWhenAsked };
        },
      };
    };
    const order = { url: 'https://ca.invalid/order/1', finalize: 'https://ca.invalid/finalize/1', status: 'pending' };

    const ready = standIn('ready');
    expect((await finalizeAuthorized(ready, order)).status).toBe('processing');
    expect(ready.calls).toEqual(['finalize pending', 'getOrder', 'finalize ready']);
    // Still pending at the CA: returned as it is (the caller then waits on it or fails), not finalized again.
    const pending = standIn('pending');
    expect((await finalizeAuthorized(pending, order)).status).toBe('pending');
    expect(pending.calls).toEqual(['finalize pending', 'getOrder']);
  });

  it('complete without prepare is refused', async () => {
    const issuer = await http01Ca();
    await expect(issuer.complete(await request())).rejects.toThrow(/no order was prepared/);
  });
});

describe('the agent\'s Http01Challenges', () => {
  it('serves only its allowed ports, only well-formed tokens, and 404 for anything else', async () => {
    const port = await freePort();
    const agent = new Http01Challenges(agentConfig([port]), silent);
    const t = token();
    await expect(agent.run(job({ port: port + 1 === 65536 ? 1 : port + 1, tokens: [{ token: t, keyAuthorization: keyAuth(t) }] }))).rejects.toThrow(/is not allowed for http-01 on this agent \(acme\.http01\.ports: \d+\)/);
    await expect(agent.run(job({ port, tokens: [{ token: '../../etc/passwd', keyAuthorization: 'x' }] }))).rejects.toThrow(/not base64url/);
    await expect(agent.run(job({ port, tokens: [{ token: t, keyAuthorization: keyAuth(token()) }] }))).rejects.toThrow(/not TOKEN\.THUMBPRINT/);
    await expect(agent.run(job({ port, tokens: [] }))).rejects.toThrow(/no tokens/);
    expect(await listening(port)).toBe(false);
    await expect(new Http01Challenges(agentConfig([]), silent).run(job({ port: 80, tokens: [{ token: t, keyAuthorization: keyAuth(t) }] })))
      .rejects.toThrow(/acme\.http01\.ports: none, port mode is off/);

    const start = job({ port, bindAddress: '127.0.0.1', tokens: [{ token: t, keyAuthorization: keyAuth(t) }] });
    const served = await agent.run(start);
    expect(await fetchToken(port, t)).toEqual({ status: 200, body: start.tokens[0]!.keyAuthorization });
    expect((await fetchToken(port, token())).status).toBe(404);
    // The same job delivered again (after a reconnect) answers the same, without a second server.
    expect(await agent.run(start)).toEqual(served);
    await agent.run({ ...start, action: 'stop' });
    expect(await listening(port)).toBe(false);
    // A stop for something not served (or already stopped) is answered, not refused.
    expect(await agent.run({ ...start, action: 'stop' })).toMatchObject({ status: 'stopped' });
  });

  it('two challenges share one port; the server closes when the last one stops; tokens expire by themselves', async () => {
    const port = await freePort();
    const agent = new Http01Challenges(agentConfig([port]), silent);
    const [a, b] = [token(), token()];
    const startA = job({ port, bindAddress: '127.0.0.1', tokens: [{ token: a, keyAuthorization: keyAuth(a) }] });
    const startB = job({ port, bindAddress: '127.0.0.1', tokens: [{ token: b, keyAuthorization: keyAuth(b) }], ttlSeconds: 1 });
    await agent.run(startA);
    await agent.run(startB);
    expect((await fetchToken(port, a)).status).toBe(200);
    expect((await fetchToken(port, b)).status).toBe(200);
    // B asked for one second: gone after it, A still served.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await fetchToken(port, b)).status).toBe(404);
    expect((await fetchToken(port, a)).status).toBe(200);
    await agent.run({ ...startA, action: 'stop' });
    expect(await listening(port)).toBe(false);
  });

  it('webroot mode writes the files inside allowedPaths and removes them; a webroot outside or a .well-known leading out is refused', async () => {
    const webroot = join(dir, 'www');
    await mkdir(webroot, { recursive: true });
    const agent = new Http01Challenges(agentConfig([]), silent);
    const t = token();
    const start = job({ webroot, tokens: [{ token: t, keyAuthorization: keyAuth(t) }] });
    const served = await agent.run(start);
    const file = join(webroot, '.well-known', 'acme-challenge', t);
    expect(served).toMatchObject({ status: 'serving', mode: 'webroot', files: [file] });
    expect(await readFile(file, 'utf8')).toBe(start.tokens[0]!.keyAuthorization);
    expect(await agent.run({ ...start, action: 'stop' })).toMatchObject({ status: 'stopped', files: [file] });
    expect(await readdir(join(webroot, '.well-known', 'acme-challenge'))).toEqual([]);

    const outside = await mkdtemp(join(tmpdir(), 'certflow-http01-outside-'));
    try {
      await expect(agent.run(job({ webroot: outside, tokens: start.tokens }))).rejects.toThrow(/outside the agent's deploy\.allowedPaths/);
      const tricky = join(dir, 'tricky');
      await mkdir(tricky);
      await symlink(outside, join(tricky, '.well-known'));
      await expect(agent.run(job({ webroot: tricky, tokens: start.tokens }))).rejects.toThrow(/resolves to .*outside the agent's deploy\.allowedPaths/);
      expect(await readdir(outside)).toEqual([]);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });
});
