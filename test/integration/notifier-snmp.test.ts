// SNMP notifications received by Debian's snmptrapd and decoded with deploy/CERTFLOW-MIB.txt: v2c traps,
// v3 authPriv traps and informs, and an inform refused for wrong SNMPv3 keys reported as a failure.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIB_NAMES } from '../../controller/src/notifiers/snmp/certflow-oids.js';
import { snmpConfigSchema } from '../../controller/src/notifiers/snmp/snmp-config.js';
import { snmpNotifier } from '../../controller/src/notifiers/snmp/snmp-notifier.js';
import { DeliveryError } from '../../controller/src/notifiers/notifier.js';
import { sampleEvent } from '../support/notification-events.js';
import { MIB_DIRS, startSnmptrapd, type Snmptrapd } from '../support/notification-receivers.js';
import { eventually } from '../support/processes.js';

const ENGINE_ID = '8000b9838011223344556677889900aabb';
const user = { name: 'certflow', authProtocol: 'SHA', authKey: 'auth-pass-123', privProtocol: 'AES', privKey: 'priv-pass-456' };
let trapd: Snmptrapd;

beforeAll(async () => {
  trapd = await startSnmptrapd({ community: 'c0mmunity', users: [{ ...user, engineId: ENGINE_ID }, user] });
});
afterAll(async () => {
  await trapd?.stop();
});

const send = (config: object, secrets: object, event = sampleEvent()) =>
  snmpNotifier.send(event, snmpConfigSchema.parse(config), secrets, AbortSignal.timeout(15_000)).then(() => event);

const trapFor = (eventId: string) => eventually(async () => trapd.traps().find((t) => t.includes(eventId)), 10_000, `a trap carrying ${eventId}`);

describe('SNMP notifier', () => {
  it('defines in the MIB exactly the OIDs the notifier sends', () => {
    for (const [name, oid] of Object.entries(MIB_NAMES)) {
      const numeric = execFileSync('snmptranslate', ['-M', MIB_DIRS, '-m', 'CERTFLOW-MIB', '-On', `CERTFLOW-MIB::${name}`],
        { env: { ...process.env, MIBS: '' }, encoding: 'utf8' }).trim();
      expect(numeric, name).toBe(`.${oid}`);
    }
  });

  it('sends a v2c trap that snmptrapd decodes with the MIB', async () => {
    const event = await send({ host: '127.0.0.1', port: trapd.port, version: 'v2c' }, { community: 'c0mmunity' });
    const trap = await trapFor(event.id);
    expect(trap).toContain('CERTFLOW-MIB::certflowRunFailed');
    expect(trap).toContain('CERTFLOW-MIB::certflowHost.0 = STRING: web-01');
    expect(trap).toContain('CERTFLOW-MIB::certflowCertificate.0 = STRING: shop.example.com');
    expect(trap).toContain('CERTFLOW-MIB::certflowStage.0 = STRING: deploy');
    expect(trap).toContain('CERTFLOW-MIB::certflowError.0 = STRING: nginx: [emerg] cannot load certificate');
    expect(trap).toContain('CERTFLOW-MIB::certflowSeverity.0 = INTEGER: critical(3)');
    expect(trap).toContain('CERTFLOW-MIB::certflowDaysLeft.0 = INTEGER: 12');
    expect(trap).toContain(`CERTFLOW-MIB::certflowRunId.0 = STRING: ${event.runId}`);
  });

  it('sends a v3 authPriv trap from its configured engine id', async () => {
    const event = await send({ host: '127.0.0.1', port: trapd.port, version: 'v3', v3: { user: 'certflow', engineId: ENGINE_ID } },
      { authKey: user.authKey, privKey: user.privKey }, sampleEvent('certificate.expiring', { severity: 'warning' }, { daysLeft: 9 }));
    const trap = await trapFor(event.id);
    expect(trap).toContain('CERTFLOW-MIB::certflowCertificateExpiring');
    expect(trap).toContain('CERTFLOW-MIB::certflowDaysLeft.0 = INTEGER: 9');
    expect(trap).toContain('CERTFLOW-MIB::certflowSeverity.0 = INTEGER: warning(2)');
  });

  it('sends a v3 authPriv inform that the receiver acknowledges', async () => {
    const event = await send({ host: '127.0.0.1', port: trapd.port, version: 'v3', mode: 'inform', v3: { user: 'certflow' } },
      { authKey: user.authKey, privKey: user.privKey }, sampleEvent('certificate.deployed', { severity: 'info' }));
    expect(await trapFor(event.id)).toContain('CERTFLOW-MIB::certflowCertificateDeployed');
  });

  it('reports an inform with wrong SNMPv3 keys as a failed delivery, with the reason', async () => {
    const event = sampleEvent();
    const error = await send({ host: '127.0.0.1', port: trapd.port, version: 'v3', mode: 'inform', informRetries: 0, v3: { user: 'certflow' } },
      { authKey: 'wrong-auth-key', privKey: user.privKey }, event).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as DeliveryError).message).toMatch(/refused our SNMPv3 credentials: Wrong Digest/);
    expect((error as DeliveryError).retryable).toBe(false);
    expect(trapd.traps().some((t) => t.includes(event.id))).toBe(false);
  });
});
