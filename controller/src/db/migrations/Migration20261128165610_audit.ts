import { Migration } from '@mikro-orm/migrations';

export class Migration20261128165610_audit extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "audit_events" ("seq" bigserial primary key, "at" timestamptz not null, "actor" varchar(255) not null, "action" varchar(255) not null, "target_type" varchar(255) not null, "target_id" varchar(255) null, "before" jsonb null, "after" jsonb null, "prev_hash" varchar(255) not null, "hash" varchar(255) not null);`);
    this.addSql(`create index "audit_events_at_index" on "audit_events" ("at");`);
    this.addSql(`create index "audit_events_actor_index" on "audit_events" ("actor");`);
    this.addSql(`create index "audit_events_action_index" on "audit_events" ("action");`);
    this.addSql(`create index "audit_events_target_id_index" on "audit_events" ("target_id");`);
    // Append-only for the application: rows can be inserted, never changed or deleted. (Someone who
    // disables the trigger can still edit; the hash chain is what makes that visible.)
    this.addSql(`create function audit_events_append_only() returns trigger language plpgsql as $$
      begin raise exception 'the audit trail is append-only'; end $$;`);
    this.addSql(`create trigger audit_events_append_only before update or delete on "audit_events"
      for each row execute function audit_events_append_only();`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "audit_events" cascade;`);
    this.addSql(`drop function if exists audit_events_append_only();`);
  }

}
