import { Migration } from '@mikro-orm/migrations';

export class Migration20261128190900_managed_template_version_index extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create index "managed_certificates_template_version" on "managed_certificates" ("template_id", "renewal_computed_with_version");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "managed_certificates_template_version";`);
  }

}
