// The delivery worker, started by every controller replica. It reads the event stream through one durable
// JetStream consumer shared by all replicas, routes each event (template rules, else channel defaults) to
// delivery rows, and acks the message once the rows are committed. A sender loop then claims due rows
// (any replica, FOR UPDATE SKIP LOCKED), sends them and records the outcome, retrying with backoff within
// each channel's limits. Each send runs on its own with the channel's timeout and at most a few per
// channel at once, so a slow or failing channel never holds up the others, and nothing here can block or
// fail a workflow: the workflow only publishes events.
//
// Exactly once, and where it is not: a row is claimed (committed) before its send and marked sent after.
// A replica killed before the provider accepted the message leaves a claim whose lease runs out; the row
// is then sent again, once. A replica killed after the provider accepted and before "sent" was committed
// (a window of one database round trip) causes one duplicate on that retry; it carries the same
// identifiers (email Message-ID, X-Certflow-Delivery, event id in SNMP and syslog) so receivers can drop it.
import type { MikroORM } from '@mikro-orm/postgresql';
import { AckPolicy, DeliverPolicy, type ConsumerMessages, type JsMsg, type NatsConnection } from 'nats';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { SecretBox } from '../crypto/master-key.js';
import { NotificationChannel } from '../db/entities/notification-channel.js';
import { certflowEventSchema } from '../events/certflow-event.js';
import type { Logger } from '../log.js';
import type { Subjects } from '../messaging/subjects.js';
import { attemptDelivery, type DeliveryPoint } from './attempt-delivery.js';
import { claimDue, failUndeliverable, recordDeliveries, type DeliveryRow } from './deliveries.js';
import { buildDigestEvent, digestDue, uuidFromName } from './email/expiry-digest.js';
import { emailConfigSchema } from './email/email-config.js';
import { routeEvent, routingStateFromDatabase, type RulesFor } from './routing.js';
import { forwardAuditBatch } from './syslog/audit-forwarder.js';
import { syslogConfigSchema } from './syslog/syslog-config.js';

export const NOTIFIER_CONSUMER = 'notifier';

export interface DeliveryWorkerOptions {
  orm: MikroORM;
  box: SecretBox;
  nc: NatsConnection;
  subjects: Subjects;
  log: Logger;
  /** A template's notification rules (tests); by default read from the template tables with the channels. */
  rulesFor?: RulesFor;
  /** How often due rows, digests and the audit tail are looked at without a wake-up. */
  pollMs?: number;
  maxInFlight?: number;
  maxInFlightPerChannel?: number;
  /** Test hook: called at points of each attempt (see attempt-delivery.ts). */
  onPoint?: (point: DeliveryPoint, row: DeliveryRow) => Promise<void>;
}

export class DeliveryWorker {
  private readonly claimant = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly log: Logger;
  private readonly stopping = new AbortController();
  private readonly inFlight = new Map<Promise<void>, string>();
  private messages: ConsumerMessages | null = null;
  private timers: NodeJS.Timeout[] = [];
  private pumping = false;
  private pumpAgain = false;
  private consuming: Promise<void> | null = null;
  private running = false;

  constructor(private readonly options: DeliveryWorkerOptions) {
    this.log = options.log.child({ component: 'notifier' });
  }

  async start(): Promise<void> {
    const { nc, subjects } = this.options;
    const jsm = await nc.jetstreamManager();
    // Created (or updated to this config) by every replica at start; all replicas then pull from the same
    // durable consumer, so each event is routed by one of them (and routing twice would be harmless).
    const consumer = {
      durable_name: NOTIFIER_CONSUMER,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: subjects.event('>'),
      ack_wait: 30 * 1_000_000_000,
      max_ack_pending: 1000,
    };
    try {
      await jsm.consumers.info(subjects.eventStream, NOTIFIER_CONSUMER);
      await jsm.consumers.update(subjects.eventStream, NOTIFIER_CONSUMER, { ack_wait: consumer.ack_wait, max_ack_pending: consumer.max_ack_pending });
    } catch (err) {
      if (!/consumer not found/i.test(String(err)) && (err as { code?: string }).code !== '404') throw err;
      await jsm.consumers.add(subjects.eventStream, consumer);
    }
    this.running = true;
    this.consuming = this.consume();
    const poll = this.options.pollMs ?? 1000;
    this.timers.push(setInterval(() => this.wake(), poll));
    this.timers.push(setInterval(() => void this.tick('audit', () => this.forwardAudit()), Math.max(poll, 1000)));
    this.timers.push(setInterval(() => void this.tick('digest', () => this.queueDueDigests()), 60_000));
    void this.tick('digest', () => this.queueDueDigests());
    this.wake();
    this.log.info({ claimant: this.claimant }, 'notification delivery worker started');
  }

  /** Stops reading and claiming; sends in flight get a few seconds, then are aborted (and retried later). */
  async stop(graceMs = 5000): Promise<void> {
    this.running = false;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    this.messages?.stop();
    const pending = Promise.allSettled([...this.inFlight.keys()]);
    const timer = setTimeout(() => this.stopping.abort(new Error('the controller is stopping')), graceMs);
    await pending;
    clearTimeout(timer);
    this.stopping.abort();
    await this.consuming?.catch(() => undefined);
  }

  /** Look for due deliveries now (new rows, a finished send). */
  wake(): void {
    if (this.stopping.signal.aborted) return;
    void this.pump().catch((err) => this.log.error({ err }, 'claiming deliveries failed'));
  }

  private async tick(what: string, job: () => Promise<unknown>): Promise<void> {
    if (this.stopping.signal.aborted) return;
    try {
      await job();
    } catch (err) {
      this.log.warn({ err, job: what }, 'notification job failed; trying again later');
    }
  }

  // --- the stream -> delivery rows ---------------------------------------------------------------

  private async consume(): Promise<void> {
    const js = this.options.nc.jetstream();
    while (this.running) {
      try {
        const consumer = await js.consumers.get(this.options.subjects.eventStream, NOTIFIER_CONSUMER);
        this.messages = await consumer.consume({ max_messages: 100 });
        for await (const message of this.messages) await this.route(message);
      } catch (err) {
        if (!this.running) return;
        this.log.warn({ err }, 'reading the event stream failed; trying again');
      }
      if (!this.running) return;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  private async route(message: JsMsg): Promise<void> {
    let data: unknown;
    try {
      data = message.json();
    } catch {
      data = undefined;
    }
    const parsed = certflowEventSchema.safeParse(data);
    if (!parsed.success) {
      // Never deliverable, and redelivering it would not change that.
      this.log.error({ subject: message.subject, seq: message.seq, issue: parsed.error?.issues[0]?.message }, 'event is not a certflow event; dropped');
      message.term();
      return;
    }
    const event = parsed.data;
    try {
      const em = this.options.orm.em.fork();
      const state = await routingStateFromDatabase(em, this.options.rulesFor ? null : event.templateId ?? null);
      const channels = state.channels;
      const rules = this.options.rulesFor ? (event.templateId ? await this.options.rulesFor(event.templateId) : null) : state.rules;
      const names = routeEvent(event.kind, rules, channels);
      const byName = new Map(channels.map((c) => [c.name, c]));
      const known = names.filter((n) => byName.has(n)).map((n) => ({ name: n, kind: byName.get(n)!.kind }));
      const unknown = names.filter((n) => !byName.has(n))
        .map((n) => ({ name: n, reason: `the template's notification rules name channel "${n}", which does not exist` }));
      await recordDeliveries(em, event, known, unknown);
      message.ack();
      if (known.length) this.wake();
    } catch (err) {
      // The database is away: JetStream keeps the event and offers it again.
      this.log.warn({ err, event: event.id }, 'routing an event failed; it will be offered again');
      message.nak(5000);
    }
  }

  // --- delivery rows -> sends --------------------------------------------------------------------

  private async pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        const em = this.options.orm.em.fork();
        await failUndeliverable(em);
        const free = (this.options.maxInFlight ?? 16) - this.inFlight.size;
        if (free <= 0) break;
        const perChannel = this.options.maxInFlightPerChannel ?? 4;
        const busy = new Map<string, number>();
        for (const channel of this.inFlight.values()) busy.set(channel, (busy.get(channel) ?? 0) + 1);
        const full = [...busy].filter(([, n]) => n >= perChannel).map(([c]) => c);
        const rows = await claimDue(em, this.claimant, free, perChannel, full);
        for (const row of rows) this.launch(row);
        if (rows.length === free) this.pumpAgain = true;
      } while (this.pumpAgain && !this.stopping.signal.aborted);
    } finally {
      this.pumping = false;
    }
  }

  private launch(row: DeliveryRow): void {
    const attempt = attemptDelivery({
      em: () => this.options.orm.em.fork(), box: this.options.box, log: this.log, claimant: this.claimant,
      shutdown: this.stopping.signal, onPoint: this.options.onPoint,
    }, row, { retry: true }).then((outcome) => {
      if (outcome.state === 'sent') this.log.info({ delivery: row.id, channel: row.channelName, event: row.eventId, kind: row.eventKind }, 'notification sent');
    }, (err) => this.log.error({ err, delivery: row.id }, 'recording a delivery failed; its claim will run out and it will be tried again'));
    const tracked = attempt.finally(() => {
      this.inFlight.delete(tracked);
      this.wake();
    });
    this.inFlight.set(tracked, row.channelName);
  }

  // --- digests and the audit tail ----------------------------------------------------------------

  /** Queues today's expiry digest of every email channel whose digest hour has come (once per day). */
  async queueDueDigests(now = new Date()): Promise<number> {
    const em = this.options.orm.em.fork();
    let queued = 0;
    for (const channel of await em.find(NotificationChannel, { kind: 'email', enabled: true })) {
      const config = emailConfigSchema.safeParse(channel.config);
      if (!config.success || !digestDue(config.data, now)) continue;
      const eventId = uuidFromName(`digest:${channel.name}:${now.toISOString().slice(0, 10)}`);
      const [exists] = await em.execute(`select 1 from notification_deliveries where event_id = ? and channel_name = ?`, [eventId, channel.name]);
      if (exists) continue;
      const event = await buildDigestEvent(em, channel.name, config.data, now);
      queued += await recordDeliveries(em, event, [{ name: channel.name, kind: 'email' }]);
    }
    if (queued) this.wake();
    return queued;
  }

  private async forwardAudit(): Promise<void> {
    const em = this.options.orm.em.fork();
    for (const channel of await em.find(NotificationChannel, { kind: 'syslog', enabled: true })) {
      const config = syslogConfigSchema.safeParse(channel.config);
      if (!config.success || !config.data.forwardAudit) continue;
      try {
        while ((await forwardAuditBatch(em.fork(), this.options.box, channel.id)) > 0 && !this.stopping.signal.aborted) { /* next batch */ }
      } catch (err) {
        this.log.warn({ channel: channel.name, error: (err as Error).message }, 'forwarding the audit trail to syslog failed; trying again');
      }
    }
  }
}
