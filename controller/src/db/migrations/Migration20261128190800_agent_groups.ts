import { Migration } from '@mikro-orm/migrations';

export class Migration20261128190800_agent_groups extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "agents" add column "labels" jsonb not null default '{}', add column "host_groups" jsonb not null default '[]';`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "agents" drop column "labels", drop column "host_groups";`);
  }

}
