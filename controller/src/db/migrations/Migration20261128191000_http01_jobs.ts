import { Migration } from '@mikro-orm/migrations';

export class Migration20261128191000_http01_jobs extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "agent_jobs" drop constraint if exists "agent_jobs_kind_check";`);

    this.addSql(`alter table "agent_jobs" add constraint "agent_jobs_kind_check" check("kind" in ('rescan', 'configureNetworkScan', 'makeCsr', 'deploy', 'validate', 'rollback', 'http01Challenge'));`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "agent_jobs" drop constraint if exists "agent_jobs_kind_check";`);

    this.addSql(`alter table "agent_jobs" add constraint "agent_jobs_kind_check" check("kind" in ('rescan', 'configureNetworkScan', 'makeCsr', 'deploy', 'validate', 'rollback'));`);
  }

}
