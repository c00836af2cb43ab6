import { Migration } from '@mikro-orm/migrations';

export class Migration20261128174216_agent_job_results extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "agent_jobs" drop constraint if exists "agent_jobs_kind_check";`);

    this.addSql(`alter table "agent_jobs" add column "result" jsonb null;`);
    this.addSql(`alter table "agent_jobs" add constraint "agent_jobs_kind_check" check("kind" in ('rescan', 'configureNetworkScan', 'makeCsr'));`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "agent_jobs" drop constraint if exists "agent_jobs_kind_check";`);

    this.addSql(`alter table "agent_jobs" drop column "result";`);

    this.addSql(`alter table "agent_jobs" add constraint "agent_jobs_kind_check" check("kind" in ('rescan', 'configureNetworkScan'));`);
  }

}
