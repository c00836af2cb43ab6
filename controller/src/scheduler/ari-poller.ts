// ACME Renewal Information (RFC 9773) for managed certificates certflow issued: every replica runs this;
// rows are claimed with `for update skip locked` and a short lease, then the CA is asked outside any
// transaction (a slow CA holds no lock), and the answer moves the certificate's renewal time into the
// CA's suggested window (when the template uses ARI) and schedules the next question at the CA's
// Retry-After (kept between 1 h and 24 h). A CA without ARI clears the schedule; an error retries in an hour.
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { ManagedCertificate } from '../db/entities/managed-certificate.js';
import { hasRenewalInfo, type Issuer } from '../issuers/issuer.js';
import type { Logger } from '../log.js';
import { getTemplateVersion } from '../templates/template-store.js';
import { PeriodicTask } from '../workflow/periodic-task.js';
import { computeRenewAfter } from './renewal-window.js';

const HOUR = 3600_000;
const BATCH = 20;

export interface AriPollerOptions {
  intervalMs: number;
  loadIssuer(em: EntityManager, name: string): Promise<Issuer>;
}

export class AriPoller {
  private readonly task: PeriodicTask;

  constructor(private readonly orm: MikroORM, private readonly log: Logger, private readonly options: AriPollerOptions) {
    this.task = new PeriodicTask('ARI poller', () => this.poll(), options.intervalMs, log);
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** Asks the CAs about the certificates whose check is due; returns how many were asked. */
  async poll(now: Date = new Date()): Promise<number> {
    // Claim: push the next check an hour out, so another replica leaves these alone meanwhile.
    const claimed = await this.orm.em.fork().transactional((tx) => tx.execute<{ id: string }[]>(
      `update managed_certificates set ari_next_check_at = ?
        where id in (select id from managed_certificates
                      where ari_next_check_at <= ? and state = 'active' and current_ca is not null and current_certificate_pem is not null
                      order by ari_next_check_at limit ? for update skip locked)
        returning id`, [new Date(now.getTime() + HOUR), now, BATCH]));
    for (const { id } of claimed) await this.check(id, now);
    return claimed.length;
  }

  private async check(id: string, now: Date): Promise<void> {
    const em = this.orm.em.fork();
    const managed = await em.findOne(ManagedCertificate, { id });
    if (!managed?.currentCa || !managed.currentCertificatePem) return;
    try {
      const issuer = await this.options.loadIssuer(em, managed.currentCa);
      if (!hasRenewalInfo(issuer)) {
        await em.nativeUpdate(ManagedCertificate, { id }, { ariNextCheckAt: null });
        return;
      }
      const info = await issuer.renewalInfo(managed.currentCertificatePem, AbortSignal.timeout(15_000));
      if (!info) {
        await em.nativeUpdate(ManagedCertificate, { id }, { ariNextCheckAt: null });
        return;
      }
      const template = await getTemplateVersion(em, managed.templateId);
      const retryAfter = Math.min(Math.max(info.retryAfter.getTime(), now.getTime() + HOUR), now.getTime() + 24 * HOUR);
      const window = info.suggestedWindow;
      const update: Partial<ManagedCertificate> = { ariWindowStart: window.start, ariWindowEnd: window.end, ariNextCheckAt: new Date(retryAfter), updatedAt: now };
      if (template.document.renewal.useAri && managed.currentNotBefore && managed.currentNotAfter) {
        update.renewAfter = computeRenewAfter({
          notBefore: managed.currentNotBefore, notAfter: managed.currentNotAfter, renewal: template.document.renewal, ariWindow: window, random: Math.random,
        });
        update.renewalComputedWithVersion = template.version;
      }
      await em.nativeUpdate(ManagedCertificate, { id }, update);
    } catch (err) {
      this.log.warn({ managedCertificate: id, ca: managed.currentCa, err: (err as Error).message }, 'ARI: could not read the renewal window; asking again in an hour');
    }
  }
}
