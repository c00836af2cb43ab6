// Forwards the audit trail to syslog channels that ask for it (forwardAudit), as it is written: a tail of
// the audit table, so only committed entries go out, in chain order. Each channel's position is the last
// seq it was sent (notification_channels.audit_forwarded_seq), moved in the same transaction that holds
// the channel row locked while the batch is sent, so one replica forwards at a time. A replica killed
// after sending and before committing sends that batch again: every message carries its seq and hash,
// by which a SIEM can drop repeats. Forwarding starts at the entry written when it was turned on.
import type { EntityManager } from '@mikro-orm/postgresql';
import { hostname } from 'node:os';
import { readAudit, type AuditRow } from '../../audit/audit-trail.js';
import type { SecretBox } from '../../crypto/master-key.js';
import { NotificationChannel } from '../../db/entities/notification-channel.js';
import { openChannel } from '../channels.js';
import { formatRfc5424 } from './rfc5424.js';
import type { SyslogConfig, SyslogSecrets } from './syslog-config.js';
import { sendSyslog } from './syslog-transport.js';

const BATCH = 200;

export function auditSyslogMessage(entry: AuditRow, config: SyslogConfig): string {
  return formatRfc5424({
    facility: config.facility,
    severity: 'notice',
    timestamp: new Date(entry.at),
    hostname: config.hostname ?? hostname(),
    appName: config.appName,
    procId: String(process.pid),
    msgId: 'audit',
    structuredData: {
      certflowAudit: {
        seq: entry.seq, actor: entry.actor, action: entry.action, targetType: entry.targetType, targetId: entry.targetId,
        hash: entry.hash, prevHash: entry.prevHash,
      },
    },
    message: `${entry.actor} ${entry.action} ${entry.targetType}${entry.targetId ? ` ${entry.targetId}` : ''}`,
  });
}

/** Sends what is new for one channel; returns how many entries went out (0 when another replica holds it). */
export async function forwardAuditBatch(em: EntityManager, box: SecretBox, channelId: string): Promise<number> {
  return em.transactional(async (tx) => {
    const [locked] = await tx.execute<{ audit_forwarded_seq: string | null }[]>(
      `select audit_forwarded_seq from notification_channels where id = ? and enabled for update skip locked`, [channelId]);
    if (!locked) return 0;
    if (locked.audit_forwarded_seq === null) {
      // First run since forwarding was turned on: start after the newest entry.
      await tx.execute(`update notification_channels set audit_forwarded_seq = coalesce((select max(seq) from audit_events), 0) where id = ?`, [channelId]);
      return 0;
    }
    const entries = await readAudit(tx, {}, Number(locked.audit_forwarded_seq), BATCH);
    if (!entries.length) return 0;
    const channel = await tx.findOneOrFail(NotificationChannel, { id: channelId });
    const opened = openChannel(box, channel);
    const config = opened.config as SyslogConfig;
    await sendSyslog(config, opened.secrets as SyslogSecrets, entries.map((e) => auditSyslogMessage(e, config)),
      AbortSignal.timeout(channel.timeoutSeconds * 1000));
    await tx.execute(`update notification_channels set audit_forwarded_seq = ? where id = ?`, [entries[entries.length - 1].seq, channelId]);
    return entries.length;
  });
}
