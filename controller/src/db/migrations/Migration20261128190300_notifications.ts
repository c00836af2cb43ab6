import { Migration } from '@mikro-orm/migrations';

export class Migration20261128190300_notifications extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "notification_channels" ("id" uuid not null, "name" varchar(100) not null, "kind" text check ("kind" in ('email', 'snmp', 'webhook', 'syslog')) not null, "config" jsonb not null, "sealed_secrets" bytea null, "secret_names" jsonb not null, "default_events" jsonb not null, "enabled" boolean not null, "max_attempts" int not null, "retry_backoff_seconds" int not null, "timeout_seconds" int not null, "audit_forwarded_seq" bigint null, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "notification_channels_pkey" primary key ("id"));`);
    this.addSql(`alter table "notification_channels" add constraint "notification_channels_name_unique" unique ("name");`);

    // No foreign key to the channel: the history of a deleted channel stays readable.
    this.addSql(`create table "notification_deliveries" ("id" uuid not null, "event_id" uuid not null, "event_kind" varchar(255) not null, "summary" text not null, "event" jsonb not null, "channel_name" varchar(100) not null, "channel_kind" varchar(255) not null, "state" text check ("state" in ('pending', 'sending', 'sent', 'failed')) not null, "attempts" int not null, "next_attempt_at" timestamptz null, "claimed_until" timestamptz null, "claimed_by" varchar(255) null, "last_error" text null, "parts_done" jsonb not null, "provider_message_id" text null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "sent_at" timestamptz null, constraint "notification_deliveries_pkey" primary key ("id"));`);
    this.addSql(`create index "notification_deliveries_channel_name_index" on "notification_deliveries" ("channel_name");`);
    this.addSql(`create index "notification_deliveries_created_at_index" on "notification_deliveries" ("created_at");`);
    this.addSql(`create index "notification_deliveries_due" on "notification_deliveries" ("next_attempt_at") where "state" in ('pending', 'sending');`);
    // The deduplication key: one delivery per event and channel, however often the event is routed.
    this.addSql(`alter table "notification_deliveries" add constraint "notification_deliveries_event_id_channel_name_unique" unique ("event_id", "channel_name");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "notification_deliveries" cascade;`);
    this.addSql(`drop table if exists "notification_channels" cascade;`);
  }

}
