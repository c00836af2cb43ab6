import { Migration } from '@mikro-orm/migrations';

export class Migration20261128190600_agent_job_runs extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "agent_jobs" add column "run_id" uuid null, add column "run_stage" varchar(255) null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "agent_jobs" drop column "run_id", drop column "run_stage";`);
  }

}
