import { Migration } from '@mikro-orm/migrations';

export class Migration20261128190700_fleet_notices extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "agents" add column "offline_reported_at" timestamptz null;`);
    this.addSql(`create table "expiry_notices" ("certificate_id" uuid not null, "threshold_days" int not null, "created_at" timestamptz not null, constraint "expiry_notices_pkey" primary key ("certificate_id", "threshold_days"));`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "expiry_notices" cascade;`);
    this.addSql(`alter table "agents" drop column "offline_reported_at";`);
  }

}
