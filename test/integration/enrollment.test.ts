// Enrolment and agent identity against a real controller process, real Postgres and real NATS.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import pg from 'pg';
import { createTestDatabase } from '../support/postgres.js';
import { deleteStreamsWithPrefix, testNatsUrl, uniquePrefix } from '../support/nats.js';
import { createEnrollmentToken, startController, type ControllerProcess } from '../support/processes.js';
import { createGatewayClient, unary } from '../../agent/src/session/gateway-client.js';
import { newKeyAndCsr } from '../../agent/src/identity/key-and-csr.js';
import { fetchPinnedCa } from '../../agent/src/identity/ca-pin.js';
import { createAgentCaMaterial, openAgentCa } from '../../controller/src/crypto/agent-ca.js';
import type { EnrollResponse__Output } from '../../proto/generated/certflow/agent/v1/EnrollResponse.js';
import type { RenewIdentityResponse__Output } from '../../proto/generated/certflow/agent/v1/RenewIdentityResponse.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let controller: ControllerProcess;
let caPem: string;
let sql: pg.Client;
const prefix = uniquePrefix();

beforeAll(async () => {
  db = await createTestDatabase();
  controller = await startController({ databaseUrl: db.url, natsPrefix: prefix });
  const response = await controller.api('/api/v1/enrollment-tokens', { method: 'POST', body: '{}' });
  caPem = ((await response.json()) as { caPem: string }).caPem;
  sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
});

afterAll(async () => {
  await controller?.stop();
  await sql?.end();
  await db?.drop();
  await deleteStreamsWithPrefix(testNatsUrl(), prefix);
});

async function enroll(token: string, csrPem?: string) {
  const client = createGatewayClient(controller.grpcAddress, { caPem });
  try {
    const csr = csrPem ?? (await newKeyAndCsr('test-host')).csrPem;
    return await unary<object, EnrollResponse__Output>(client.enroll.bind(client), { token, csrPem: csr, host: { hostname: 'test-host' } });
  } finally {
    client.close();
  }
}

async function enrollFresh() {
  const { token } = await createEnrollmentToken(controller);
  const { keyPem, csrPem } = await newKeyAndCsr('test-host');
  const response = await enroll(token, csrPem);
  return { ...response, keyPem };
}

async function agentCount(): Promise<number> {
  return Number((await sql.query('select count(*) from agents')).rows[0].count);
}

/** Opens Connect with the given client identity and returns how the stream ended (or the Welcome). */
function connectOnce(identity: { keyPem?: string; certPem?: string }): Promise<{ welcome?: string; error?: grpc.ServiceError }> {
  const client = createGatewayClient(controller.grpcAddress, { caPem, ...identity });
  return new Promise((resolve) => {
    const stream = client.connect();
    stream.on('data', (message: { body?: string; welcome?: { agentId: string } }) => {
      if (message.body === 'welcome') {
        resolve({ welcome: message.welcome!.agentId });
        stream.cancel();
        client.close();
      }
    });
    stream.on('error', (error: grpc.ServiceError) => {
      client.close();
      resolve({ error });
    });
    stream.write({ hello: { host: { hostname: 'test-host' } } });
  });
}

describe('enrolment', () => {
  it('exchanges a valid token and a CSR for a client certificate naming the new agent', async () => {
    const enrolled = await enrollFresh();
    expect(enrolled.agentId).toMatch(/^[0-9a-f-]{36}$/);
    expect(enrolled.clientCertificatePem).toContain('BEGIN CERTIFICATE');
    expect(enrolled.caChainPem.join('')).toBe(caPem);
    const connected = await connectOnce({ keyPem: enrolled.keyPem, certPem: enrolled.clientCertificatePem });
    expect(connected.welcome).toBe(enrolled.agentId);
  });

  it('refuses a reused token with UNAUTHENTICATED and creates nothing', async () => {
    const { token } = await createEnrollmentToken(controller);
    await enroll(token);
    const before = await agentCount();
    await expect(enroll(token)).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: expect.stringMatching(/already been used/) });
    expect(await agentCount()).toBe(before);
  });

  it('refuses an unknown or malformed token with UNAUTHENTICATED', async () => {
    const before = await agentCount();
    await expect(enroll('0123456789ab.not-the-right-secret-at-all-xx')).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: expect.stringMatching(/not valid/) });
    await expect(enroll('garbage')).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: expect.stringMatching(/malformed/) });
    expect(await agentCount()).toBe(before);
  });

  it('refuses an expired token and leaves it unused', async () => {
    const { token } = await createEnrollmentToken(controller);
    await sql.query("update enrollment_tokens set expires_at = now() - interval '1 minute' where id = $1", [token.split('.')[0]]);
    await expect(enroll(token)).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: expect.stringMatching(/expired/) });
    expect((await sql.query('select used_at from enrollment_tokens where id = $1', [token.split('.')[0]])).rows[0].used_at).toBeNull();
  });

  it('refuses a malformed CSR with INVALID_ARGUMENT and keeps the token usable', async () => {
    const { token } = await createEnrollmentToken(controller);
    await expect(enroll(token, '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----')).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
    await expect(enroll(token)).resolves.toMatchObject({ agentId: expect.any(String) });
  });

  it('lets an agent pin the controller CA by fingerprint and refuses a wrong pin', async () => {
    const [host, port] = controller.grpcAddress.split(':');
    const { caPin } = await createEnrollmentToken(controller);
    expect(await fetchPinnedCa(host, Number(port), caPin)).toContain('BEGIN CERTIFICATE');
    await expect(fetchPinnedCa(host, Number(port), 'sha256:' + '0'.repeat(64))).rejects.toThrow(/did not present a CA matching the pin/);
  });
});

describe('agent identity', () => {
  it('refuses a session without a client certificate', async () => {
    const result = await connectOnce({});
    expect(result.error?.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(result.error?.details).toMatch(/client certificate issued by this controller is required/);
  });

  it('refuses a client certificate issued by another CA, even one naming a real agent', async () => {
    const real = await enrollFresh();
    const otherCa = await openAgentCa(await createAgentCaMaterial());
    const { keyPem, csrPem } = await newKeyAndCsr('impostor');
    const forged = await otherCa.issueAgentCertificate(csrPem, real.agentId, 1);
    const result = await connectOnce({ keyPem, certPem: forged.certPem });
    // TLS verifies the chain against the agent CA; grpc-js hides an unverified certificate, so the
    // forged one counts as no certificate at all.
    expect(result.error?.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(result.error?.details).toMatch(/client certificate issued by this controller is required/);
  });

  it('cannot answer another agent\'s job: identity comes from the certificate only', async () => {
    const a = await enrollFresh();
    const b = await enrollFresh();
    const jobId = (await sql.query(
      "insert into agent_jobs (id, agent_id, kind, payload, state, requested_by, created_at) values (gen_random_uuid(), $1, 'rescan', '{}', 'sent', 'test', now()) returning id",
      [b.agentId])).rows[0].id as string;
    const client = createGatewayClient(controller.grpcAddress, { caPem, keyPem: a.keyPem, certPem: a.clientCertificatePem });
    const ack = await new Promise<{ ok: boolean; error: string }>((resolve, reject) => {
      const stream = client.connect();
      stream.on('data', (m: { body?: string; ack?: { ref: string; ok: boolean; error: string } }) => {
        if (m.body === 'welcome') stream.write({ jobResult: { jobId, ok: true, error: '' } });
        if (m.body === 'ack' && m.ack!.ref === jobId) {
          resolve(m.ack!);
          stream.cancel();
        }
      });
      stream.on('error', (e: grpc.ServiceError) => (e.code === grpc.status.CANCELLED ? undefined : reject(e)));
      stream.write({ hello: { host: { hostname: 'agent-a' } } });
    });
    client.close();
    expect(ack.ok).toBe(false);
    expect((await sql.query('select state from agent_jobs where id = $1', [jobId])).rows[0].state).toBe('sent');
  });

  it('renews its client certificate; the previous one keeps working until the next renewal', async () => {
    const enrolled = await enrollFresh();
    const renew = async (identity: { keyPem: string; certPem: string }) => {
      const client = createGatewayClient(controller.grpcAddress, { caPem, ...identity });
      const { keyPem, csrPem } = await newKeyAndCsr(enrolled.agentId);
      try {
        const response = await unary<object, RenewIdentityResponse__Output>(client.renewIdentity.bind(client), { csrPem });
        return { keyPem, certPem: response.clientCertificatePem };
      } finally {
        client.close();
      }
    };
    const first = { keyPem: enrolled.keyPem, certPem: enrolled.clientCertificatePem };
    const second = await renew(first);
    expect((await connectOnce(second)).welcome).toBe(enrolled.agentId);
    expect((await connectOnce(first)).welcome).toBe(enrolled.agentId);
    await renew(second);
    const superseded = await connectOnce(first);
    expect(superseded.error?.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(superseded.error?.details).toMatch(/superseded/);
  });
});
