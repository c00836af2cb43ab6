import { Migration } from '@mikro-orm/migrations';

// Audit entries written by the workflow's hot path wait here, in the transaction of the change they
// record, until the sequencer (audit-sequencer.ts) chains them into audit_events. Writing them needs no
// lock; only the sequencer takes the chain's lock, once per batch.
export class Migration20261128210000_audit_pending extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "audit_pending" ("id" bigserial primary key, "at" timestamptz not null, "actor" varchar(255) not null, "action" varchar(255) not null, "target_type" varchar(255) not null, "target_id" varchar(255) null, "before" jsonb null, "after" jsonb null);`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "audit_pending";`);
  }

}
