import { Migration } from '@mikro-orm/migrations';

export class Migration20261128190100_certificate_authorities extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "certificate_authorities" ("id" uuid not null, "name" text not null, "kind" text check ("kind" in ('internal', 'acme')) not null, "config" jsonb not null, "policy" jsonb not null, "created_at" timestamptz not null, "disabled" boolean not null default false, constraint "certificate_authorities_pkey" primary key ("id"));`);
    this.addSql(`alter table "certificate_authorities" add constraint "certificate_authorities_name_unique" unique ("name");`);

    this.addSql(`create table "issued_certificates" ("id" uuid not null, "ca_id" uuid not null, "idempotency_key" text not null, "request_sha256" varchar(255) not null, "names" jsonb not null, "requested_at" timestamptz not null, "serial_hex" varchar(255) null, "not_before" timestamptz null, "not_after" timestamptz null, "fingerprint_sha256" varchar(255) null, "certificate_pem" text null, "chain_pem" text null, "issued_at" timestamptz null, "revoked_at" timestamptz null, "revocation_reason" varchar(255) null, constraint "issued_certificates_pkey" primary key ("id"));`);
    this.addSql(`alter table "issued_certificates" add constraint "issued_certificates_ca_id_idempotency_key_unique" unique ("ca_id", "idempotency_key");`);
    this.addSql(`alter table "issued_certificates" add constraint "issued_certificates_ca_id_serial_hex_unique" unique ("ca_id", "serial_hex");`);
    this.addSql(`create index "issued_certificates_revoked_index" on "issued_certificates" ("ca_id", "revoked_at") where "revoked_at" is not null;`);

    this.addSql(`alter table "issued_certificates" add constraint "issued_certificates_ca_id_foreign" foreign key ("ca_id") references "certificate_authorities" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "issued_certificates" drop constraint "issued_certificates_ca_id_foreign";`);

    this.addSql(`drop table if exists "issued_certificates" cascade;`);

    this.addSql(`drop table if exists "certificate_authorities" cascade;`);
  }

}
