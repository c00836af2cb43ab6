import { Migration } from '@mikro-orm/migrations';

export class Migration20261128191100_managed_ari extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "managed_certificates" add column "current_ca" varchar(255) null, add column "current_certificate_pem" text null, add column "ari_next_check_at" timestamptz null;`);
    this.addSql(`create index "managed_certificates_ari_due" on "managed_certificates" ("ari_next_check_at") where "ari_next_check_at" is not null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "managed_certificates_ari_due";`);
    this.addSql(`alter table "managed_certificates" drop column "current_ca", drop column "current_certificate_pem", drop column "ari_next_check_at";`);
  }

}
