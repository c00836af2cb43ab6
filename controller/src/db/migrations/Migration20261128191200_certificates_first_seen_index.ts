import { Migration } from '@mikro-orm/migrations';

export class Migration20261128191200_certificates_first_seen_index extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create index "certificates_first_seen_at_id_index" on "certificates" ("first_seen_at", "id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "certificates_first_seen_at_id_index";`);
  }

}
