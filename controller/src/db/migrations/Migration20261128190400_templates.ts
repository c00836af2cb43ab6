import { Migration } from '@mikro-orm/migrations';

/** The document of the built-in template `default`: every default, adopting nothing by itself. */
const DEFAULT_TEMPLATE_DOCUMENT = {
  description: 'The built-in template: every default (renew 30 days before expiry, built-in CA, no approval, automatic rollback)',
  match: null,
  renewal: { daysBeforeExpiry: 30, useAri: true, jitterMinutes: 60 },
  key: { type: 'ecdsa-p256', multiHost: 'per-host' },
  ca: { policy: [{ ca: 'builtin' }] },
  approval: { gates: [] },
  deploy: { fromDiscovery: true, targets: [], batchSize: 10, canary: 1 },
  notifications: { rules: [] },
  rollback: { policy: 'automatic' },
};

export class Migration20261128190400_templates extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "templates" ("id" uuid not null, "name" varchar(255) not null, "current_version" int not null, "created_at" timestamptz not null, "created_by" varchar(255) not null, "updated_at" timestamptz not null, "archived_at" timestamptz null, constraint "templates_pkey" primary key ("id"));`);
    this.addSql(`alter table "templates" add constraint "templates_name_unique" unique ("name");`);

    this.addSql(`create table "template_versions" ("template_id" uuid not null, "version" int not null, "document" jsonb not null, "created_at" timestamptz not null, "created_by" varchar(255) not null, constraint "template_versions_pkey" primary key ("template_id", "version"));`);
    this.addSql(`alter table "template_versions" add constraint "template_versions_template_id_foreign" foreign key ("template_id") references "templates" ("id") on update cascade on delete cascade;`);

    // Written here (not at start) so every replica and every test database has it from the first moment.
    this.addSql(`insert into "templates" ("id", "name", "current_version", "created_at", "created_by", "updated_at", "archived_at")
      values (gen_random_uuid(), 'default', 1, now(), 'controller', now(), null);`);
    this.addSql(`insert into "template_versions" ("template_id", "version", "document", "created_at", "created_by")
      select "id", 1, '${JSON.stringify(DEFAULT_TEMPLATE_DOCUMENT).replaceAll("'", "''")}'::jsonb, now(), 'controller' from "templates" where "name" = 'default';`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "template_versions" cascade;`);

    this.addSql(`drop table if exists "templates" cascade;`);
  }

}
