import { Migration } from '@mikro-orm/migrations';

export class Migration20261128190700_acme_orders extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "acme_orders" ("ca_id" uuid not null, "idempotency_key" text not null, "order_url" text not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "acme_orders_pkey" primary key ("ca_id", "idempotency_key"));`);
    this.addSql(`alter table "acme_orders" add constraint "acme_orders_ca_id_foreign" foreign key ("ca_id") references "certificate_authorities" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "acme_orders" cascade;`);
  }

}
