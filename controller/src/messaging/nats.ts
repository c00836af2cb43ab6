// The controller's NATS connection and its JetStream streams. Streams are created idempotently: an
// existing stream is updated to the wanted config, so every replica can run this at start.
import { connect, RetentionPolicy, StorageType, type NatsConnection, type StreamConfig } from 'nats';
import type { Subjects } from './subjects.js';

export async function connectNats(url: string, name: string): Promise<NatsConnection> {
  return connect({
    servers: url,
    name,
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    timeout: 3000,
  });
}

export async function ensureStreams(nc: NatsConnection, s: Subjects): Promise<void> {
  const jsm = await nc.jetstreamManager();
  const prefix = s.work('').slice(0, -'.work.'.length);
  const wanted: Partial<StreamConfig>[] = [
    // Stage work: each message is consumed once, then gone.
    { name: s.workStream, subjects: [`${prefix}.work.>`], retention: RetentionPolicy.Workqueue, storage: StorageType.File,
      duplicate_window: 2 * 60 * 1_000_000_000 },
    // Events: kept a week for late consumers (notifiers, UI).
    { name: s.eventStream, subjects: [`${prefix}.events.>`], retention: RetentionPolicy.Limits, storage: StorageType.File,
      max_age: 7 * 24 * 3600 * 1_000_000_000, duplicate_window: 2 * 60 * 1_000_000_000 },
  ];
  for (const config of wanted) {
    try {
      await jsm.streams.info(config.name!);
      await jsm.streams.update(config.name!, config);
    } catch (err) {
      if ((err as { code?: string }).code !== '404' && !/stream not found/i.test(String(err))) throw err;
      await jsm.streams.add(config);
    }
  }
}
