import { Migration } from '@mikro-orm/migrations';

export class Migration20261128155228_initial extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "admin_tokens" ("id" uuid not null, "name" varchar(255) not null, "token_hash" varchar(255) not null, "role" text check ("role" in ('admin', 'operator', 'approver', 'auditor')) not null, "created_at" timestamptz not null, "expires_at" timestamptz null, "last_used_at" timestamptz null, "revoked_at" timestamptz null, constraint "admin_tokens_pkey" primary key ("id"));`);
    this.addSql(`alter table "admin_tokens" add constraint "admin_tokens_token_hash_unique" unique ("token_hash");`);

    this.addSql(`create table "agents" ("id" uuid not null, "name" varchar(255) not null, "host_facts" jsonb not null, "certificate_serial" varchar(255) not null, "previous_certificate_serial" varchar(255) null, "certificate_not_after" timestamptz not null, "enrolled_at" timestamptz not null, "enrolled_with_token_id" varchar(255) not null, "last_seen_at" timestamptz null, "last_check_in_at" timestamptz null, "last_inventory_at" timestamptz null, "scan_problems" jsonb not null, "revoked_at" timestamptz null, constraint "agents_pkey" primary key ("id"));`);

    this.addSql(`create table "agent_jobs" ("id" uuid not null, "agent_id" uuid not null, "kind" text check ("kind" in ('rescan')) not null, "payload" jsonb not null, "state" text check ("state" in ('pending', 'sent', 'succeeded', 'failed')) not null, "requested_by" varchar(255) not null, "created_at" timestamptz not null, "sent_at" timestamptz null, "finished_at" timestamptz null, "error" text null, constraint "agent_jobs_pkey" primary key ("id"));`);
    this.addSql(`create index "agent_jobs_agent_id_state_index" on "agent_jobs" ("agent_id", "state");`);

    this.addSql(`create table "certificates" ("id" uuid not null, "fingerprint_sha256" varchar(255) not null, "der" bytea not null, "subject" text not null, "issuer" text not null, "serial_number" varchar(255) not null, "sans" jsonb not null, "search_text" text not null, "not_before" timestamptz not null, "not_after" timestamptz not null, "key_algorithm" varchar(255) not null, "key_size" int null, "curve" varchar(255) null, "signature_algorithm" varchar(255) not null, "self_signed" boolean not null, "is_ca" boolean not null, "first_seen_at" timestamptz not null, "last_seen_at" timestamptz not null, constraint "certificates_pkey" primary key ("id"));`);
    this.addSql(`alter table "certificates" add constraint "certificates_fingerprint_sha256_unique" unique ("fingerprint_sha256");`);
    this.addSql(`create index "certificates_not_before_index" on "certificates" ("not_before");`);
    this.addSql(`create index "certificates_not_after_index" on "certificates" ("not_after");`);

    this.addSql(`create table "certificate_locations" ("id" uuid not null, "certificate_id" uuid not null, "agent_id" uuid not null, "path" text not null, "position" int not null, "format" varchar(255) not null, "first_seen_at" timestamptz not null, "last_seen_at" timestamptz not null, "removed_at" timestamptz null, constraint "certificate_locations_pkey" primary key ("id"));`);
    this.addSql(`create index "certificate_locations_certificate_id_index" on "certificate_locations" ("certificate_id");`);
    this.addSql(`create index "certificate_locations_agent_id_index" on "certificate_locations" ("agent_id");`);
    this.addSql(`alter table "certificate_locations" add constraint "certificate_locations_agent_id_path_position_cert_e38cd_unique" unique ("agent_id", "path", "position", "certificate_id");`);

    this.addSql(`create table "enrollment_tokens" ("id" varchar(255) not null, "secret_hash" varchar(255) not null, "description" varchar(255) null, "created_by" varchar(255) not null, "created_at" timestamptz not null, "expires_at" timestamptz not null, "used_at" timestamptz null, "used_by_agent_id" uuid null, constraint "enrollment_tokens_pkey" primary key ("id"));`);

    this.addSql(`create table "secrets" ("name" varchar(255) not null, "sealed" bytea not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "secrets_pkey" primary key ("name"));`);

    this.addSql(`alter table "agent_jobs" add constraint "agent_jobs_agent_id_foreign" foreign key ("agent_id") references "agents" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "certificate_locations" add constraint "certificate_locations_certificate_id_foreign" foreign key ("certificate_id") references "certificates" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "certificate_locations" add constraint "certificate_locations_agent_id_foreign" foreign key ("agent_id") references "agents" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "agent_jobs" drop constraint "agent_jobs_agent_id_foreign";`);

    this.addSql(`alter table "certificate_locations" drop constraint "certificate_locations_agent_id_foreign";`);

    this.addSql(`alter table "certificate_locations" drop constraint "certificate_locations_certificate_id_foreign";`);

    this.addSql(`drop table if exists "admin_tokens" cascade;`);

    this.addSql(`drop table if exists "agents" cascade;`);

    this.addSql(`drop table if exists "agent_jobs" cascade;`);

    this.addSql(`drop table if exists "certificates" cascade;`);

    this.addSql(`drop table if exists "certificate_locations" cascade;`);

    this.addSql(`drop table if exists "enrollment_tokens" cascade;`);

    this.addSql(`drop table if exists "secrets" cascade;`);
  }

}
