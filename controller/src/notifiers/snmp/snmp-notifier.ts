// SNMP notifications (net-snmp): v2c or v3 (authPriv / authNoPriv), as traps or informs, with the
// notification type and varbinds of deploy/CERTFLOW-MIB.txt. A trap is unacknowledged: "sent" means the
// datagram left. Only an inform can reveal a receiver that is down or refuses our v3 credentials.
import snmp from 'net-snmp';
import type { CertflowEvent } from '../../events/certflow-event.js';
import { certificateName } from '../event-text.js';
import { asDeliveryError, DeliveryError, type Notifier, type SendResult } from '../notifier.js';
import { NOTIFICATION_OIDS, OBJECT_OIDS, SEVERITY_VALUES } from './certflow-oids.js';
import { snmpConfigSchema, snmpSecretsSchema, type SnmpConfig, type SnmpSecrets } from './snmp-config.js';

interface Varbind {
  oid: string;
  type: number;
  value: unknown;
}

/** UTF-8 text cut to 255 octets (CertflowText) without splitting a character. */
function text(value: string | null | undefined): Buffer {
  const bytes = Buffer.from(value ?? '', 'utf8');
  if (bytes.length <= 255) return bytes;
  let end = 255;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

export function eventVarbinds(event: CertflowEvent): Varbind[] {
  const d = event.details;
  const str = (oid: string, value: string | null | undefined): Varbind => ({ oid: `${oid}.0`, type: snmp.ObjectType.OctetString, value: text(value) });
  const varbinds: Varbind[] = [
    str(OBJECT_OIDS.eventId, event.id),
    str(OBJECT_OIDS.eventKind, event.kind),
    { oid: `${OBJECT_OIDS.severity}.0`, type: snmp.ObjectType.Integer, value: SEVERITY_VALUES[event.severity] },
    str(OBJECT_OIDS.summary, event.summary),
    str(OBJECT_OIDS.certificate, certificateName(event)),
    str(OBJECT_OIDS.host, d.host),
    str(OBJECT_OIDS.stage, d.stage),
    str(OBJECT_OIDS.error, d.error),
    str(OBJECT_OIDS.runId, event.runId),
  ];
  if (d.daysLeft !== undefined) varbinds.push({ oid: `${OBJECT_OIDS.daysLeft}.0`, type: snmp.ObjectType.Integer, value: Math.trunc(d.daysLeft) });
  if (d.notAfter !== undefined) varbinds.push(str(OBJECT_OIDS.notAfter, d.notAfter));
  return varbinds;
}

function createSession(config: SnmpConfig, secrets: SnmpSecrets, timeoutMs: number) {
  const options = {
    port: config.port,
    trapPort: config.port,
    retries: config.informRetries,
    timeout: Math.max(500, Math.floor(timeoutMs / (config.informRetries + 1))),
    transport: config.host.includes(':') ? 'udp6' : 'udp4',
  };
  if (config.version === 'v2c') {
    return snmp.createSession(config.host, secrets.community ?? '', { ...options, version: snmp.Version2c });
  }
  const v3 = config.v3!;
  const user = {
    name: v3.user,
    level: v3.level === 'authPriv' ? snmp.SecurityLevel.authPriv : snmp.SecurityLevel.authNoPriv,
    authProtocol: snmp.AuthProtocols[v3.authProtocol],
    authKey: secrets.authKey,
    ...(v3.level === 'authPriv' ? { privProtocol: snmp.PrivProtocols[v3.privProtocol], privKey: secrets.privKey } : {}),
  };
  return snmp.createV3Session(config.host, user, { ...options, version: snmp.Version3, engineID: v3.engineId });
}

function failure(err: unknown, config: SnmpConfig): DeliveryError {
  const where = `SNMP ${config.mode} to ${config.host}:${config.port}`;
  if (err instanceof snmp.RequestTimedOutError) {
    const why = config.version === 'v3' ? 'the receiver is down, or refused our SNMPv3 user or keys (receivers drop what they cannot authenticate)' : 'the receiver is down or refused the community';
    return new DeliveryError(`${where}: no acknowledgement (${why})`, true, { cause: err });
  }
  const error = err as Error & { code?: number };
  if (err instanceof snmp.ResponseInvalidError && error.code === snmp.ResponseInvalidCode.EAuthFailure) {
    return new DeliveryError(`${where}: the receiver refused our SNMPv3 credentials: ${error.message}`, false, { cause: err });
  }
  return new DeliveryError(`${where}: ${error.message}`, true, { cause: err });
}

export const snmpNotifier: Notifier<SnmpConfig, SnmpSecrets> = {
  kind: 'snmp',
  configSchema: snmpConfigSchema,
  secretsSchema: snmpSecretsSchema,
  check(config, secrets) {
    if (config.version === 'v2c' && !secrets.community) return 'SNMP v2c needs secrets.community';
    if (config.version === 'v3') {
      if (!secrets.authKey) return 'SNMP v3 needs secrets.authKey';
      if (config.v3!.level === 'authPriv' && !secrets.privKey) return 'SNMP v3 authPriv needs secrets.privKey';
    }
    return null;
  },
  async send(event, config, secrets, signal): Promise<SendResult> {
    // Net-SNMP's own timing for informs; the channel's timeout (signal) still bounds the whole send.
    const timeoutMs = 10_000;
    const session = createSession(config, secrets, timeoutMs);
    const oid = NOTIFICATION_OIDS[event.kind];
    try {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(asDeliveryError(new Error('aborted'), signal, `SNMP ${config.mode}`));
        if (signal.aborted) return onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
        // net-snmp reports socket errors on the session, not through the callback.
        session.on('error', (err: Error) => reject(failure(err, config)));
        const done = (err: Error | null) => {
          signal.removeEventListener('abort', onAbort);
          if (err) reject(failure(err, config));
          else resolve();
        };
        if (config.mode === 'inform') session.inform(oid, eventVarbinds(event), {}, done);
        else session.trap(oid, eventVarbinds(event), {}, done);
      });
    } finally {
      session.close();
    }
    return { providerMessageId: `${config.version} ${config.mode} ${oid}` };
  },
};
