// Issue 5's "crash between order and record", with a real SIGKILL of the whole controller process: the
// ACME order's identity is committed before the CA is asked to issue, so a controller that dies after the
// CA finalized the order (the certificate exists at the CA) but before it downloaded and recorded it
// resumes that same order on restart instead of placing a second one.
// Real processes throughout: controller A (failpoint acme:after-finalize armed), an agent answering
// http-01, Pebble validating it, then controller B on the same database, NATS prefix and master key.
// The certificate B records is compared with the one at the order's own `certificate` URL, fetched from
// Pebble with the CA's account (opened with the master key): the only solid way to tie a certificate to
// an order, as Pebble's management API lists neither orders nor the certificates it issued.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as acme from 'acme-client';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Agent } from 'node:https';
import { join } from 'node:path';
import { createSecretBox, loadMasterKey } from '../../controller/src/crypto/master-key.js';
import { acmeAccountSecretName } from '../../controller/src/issuers/acme/acme-config.js';
import type { StoredAccount } from '../../controller/src/issuers/acme/acme-store.js';
import { eventually, type ControllerProcess } from '../support/processes.js';
import { startPebble, type RunningPebble } from '../support/pebble.js';
import { exactlyOnceProblems, relaunch, RELIABILITY_ENV, sql, waitForFailpoint } from '../support/reliability.js';
import { apiJson, createTemplate, waitForRun } from '../support/workflow.js';
import { addPebbleHttp01Ca, http01AgentConfig, http01Jobs, startWorkflowStack, type WorkflowStack } from '../support/workflow-stack.js';

const FAILPOINT = 'acme:after-finalize';
const CA = 'pebble-crash';
const DOMAIN = 'crash.test';

let stack: WorkflowStack;
let db: WorkflowStack['db'];
let pebble: RunningPebble;
let controller: ControllerProcess;
let agentId: string;
let dir: string;

beforeAll(async () => {
  pebble = await startPebble();
  stack = await startWorkflowStack({
    env: { ...RELIABILITY_ENV, CERTFLOW_FAILPOINTS: FAILPOINT }, dirPrefix: 'certflow-acme-crash-',
    agentConfig: http01AgentConfig(pebble), onlineTimeoutMs: 30_000,
  });
  ({ db, controller, agentId, dir } = stack);
  await addPebbleHttp01Ca(controller, pebble, CA, DOMAIN);
  await createTemplate(controller, 'via-pebble', { ca: { policy: [{ ca: CA }] } });
}, 90_000);

afterAll(async () => {
  // Controller B, when the test got that far, replaced A.
  await stack?.stop({ controller });
  await pebble?.stop();
});

interface OrderRow { order_url: string; updated_at: Date }
interface RecordRow { idempotency_key: string; serial_hex: string | null; certificate_pem: string | null }

const ordersOf = (key: string) => sql<OrderRow>(db.url, 'select order_url, updated_at from acme_orders where idempotency_key = $1', [key]);
const recordsOf = (runId: string) => sql<RecordRow>(db.url,
  `select idempotency_key, serial_hex, certificate_pem from issued_certificates where split_part(idempotency_key, ':', 1) = $1`, [runId]);

/** The certificate at the order's own `certificate` URL, fetched from Pebble as the CA's account. */
async function certificateOfOrder(orderUrl: string): Promise<string> {
  const box = createSecretBox(loadMasterKey({ masterKeyFile: controller.masterKeyFile }));
  const name = acmeAccountSecretName(CA);
  const [secret] = await sql<{ sealed: Buffer }>(db.url, 'select sealed from secrets where name = $1', [name]);
  const account = JSON.parse(box.open(name, secret!.sealed).toString('utf8')) as StoredAccount;
  expect(account.accountUrl).toBeTruthy();
  // acme-client's own axios, in this process only: trust Pebble's self-signed listener.
  acme.axios.defaults.httpsAgent = new Agent({ ca: pebble.tlsTrustPem });
  const client = new acme.Client({ directoryUrl: pebble.directoryUrl, accountKey: account.keyPem, accountUrl: account.accountUrl! });
  const order = await client.getOrder({ url: orderUrl } as acme.Order);
  expect(order.status).toBe('valid');
  return client.getCertificate(order);
}

describe('a real SIGKILL between the ACME order and the record', () => {
  it('the restarted controller resumes the same order and records the certificate Pebble issued for it, once', async () => {
    const managed = await apiJson<{ id: string }>(controller, '/api/v1/managed-certificates', { method: 'POST', body: JSON.stringify({
      template: 'via-pebble', dnsNames: [`shop.${DOMAIN}`],
      targets: [{ agentId, kind: 'file', options: { certificatePath: join(dir, 'shop.pem'), keyPath: join(dir, 'shop.key') } }],
    }) }, 201);

    // Controller A: orders, the agent serves the tokens, Pebble validates, the order is finalized, then A dies.
    await waitForFailpoint(controller, FAILPOINT, 60_000);
    const [run] = await sql<{ id: string; state: string }>(db.url, 'select id, state from workflow_runs where managed_certificate_id = $1', [managed.id]);
    expect(run!.state).not.toBe('succeeded');
    const key = `${run!.id}:${agentId}`;

    // What A left: the order's URL committed for the key, the key reserved with no certificate.
    const ordersBefore = await ordersOf(key);
    expect(ordersBefore).toHaveLength(1);
    expect(ordersBefore[0]!.order_url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/my-order\//);
    const reserved = await recordsOf(run!.id);
    expect(reserved).toEqual([{ idempotency_key: key, serial_hex: null, certificate_pem: null }]);

    // Controller B: same database, NATS prefix, ports and master key, no failpoint.
    controller = await relaunch(controller, { CERTFLOW_FAILPOINTS: '' });
    const done = await waitForRun(controller, managed.id, ['succeeded', 'failed', 'rolled-back'], 90_000);
    expect(done.error).toBeNull();
    expect(done.state).toBe('succeeded');
    expect(done.id).toBe(run!.id);

    // The same order was resumed: no second one was placed (placing one rewrites the key's row).
    expect(await ordersOf(key)).toEqual(ordersBefore);
    const records = await recordsOf(run!.id);
    expect(records).toHaveLength(1);
    const recorded = records[0]!;
    expect(recorded.certificate_pem).toBeTruthy();

    // ... and the recorded certificate is the one Pebble issued for that order.
    const orderChain = await certificateOfOrder(ordersBefore[0]!.order_url);
    const recordedCert = new X509Certificate(recorded.certificate_pem!);
    expect(new X509Certificate(orderChain).serialNumber).toBe(recordedCert.serialNumber);
    expect(orderChain).toContain(recorded.certificate_pem!.trim());
    expect((await pebble.certStatus(recorded.serial_hex!)).Status).toBe('Valid');
    expect(recordedCert.issuer).toMatch(/Pebble/);
    expect(recordedCert.subjectAltName).toBe(`DNS:shop.${DOMAIN}`);

    // It was deployed with the key the agent made for the CSR.
    const deployed = new X509Certificate(await readFile(join(dir, 'shop.pem'), 'utf8'));
    expect(deployed.fingerprint256).toBe(recordedCert.fingerprint256);
    const deployedKey = createPublicKey(await readFile(join(dir, 'shop.key'), 'utf8'));
    expect(recordedCert.publicKey.equals(deployedKey)).toBe(true);

    // Every stage once, one CA record, one certificate.issued audit entry, one run-ending entry, one job
    // of each kind linked to the run (the makeCsr job that served the tokens among them: B did not ask the agent again).
    expect(await exactlyOnceProblems(db.url, [managed.id], { [managed.id]: 'succeeded' })).toEqual([]);
    // The tokens were served by the host's makeCsr job (its serveHttp01), once; the stop job (not linked to
    // the run: its answer wakes nothing) was made once, by B.
    const http01 = await eventually(async () => {
      const rows = await http01Jobs(db.url, run!.id);
      return rows.length === 2 ? rows : null;
    }, 20_000, 'the stop job');
    expect(http01.map((j) => [j.kind, j.payload.action])).toEqual([['makeCsr', 'start'], ['http01Challenge', 'stop']]);

    const issuedEntries = await sql<{ n: number }>(db.url,
      `select count(*)::int as n from audit_events where action = 'certificate.issued' and target_id = $1`, [run!.id]);
    expect(issuedEntries[0]!.n).toBe(1);
    const verdict = await apiJson<{ ok: boolean }>(controller, '/api/v1/audit/verify');
    expect(verdict.ok).toBe(true);
  }, 180_000);
});
