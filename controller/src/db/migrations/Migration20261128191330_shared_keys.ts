import { Migration } from '@mikro-orm/migrations';

// Shared keys (template key.multiHost "shared"): exportKey jobs, and each agent's identity certificate as
// it last presented it, so the key's host can seal the key to that certificate's public key.
export class Migration20261128191330_shared_keys extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "agents" add column "identity_certificate_pem" text null;`);

    this.addSql(`alter table "agent_jobs" drop constraint if exists "agent_jobs_kind_check";`);
    this.addSql(`alter table "agent_jobs" add constraint "agent_jobs_kind_check" check("kind" in ('rescan', 'configureNetworkScan', 'makeCsr', 'deploy', 'validate', 'rollback', 'http01Challenge', 'exportKey'));`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "agent_jobs" drop constraint if exists "agent_jobs_kind_check";`);
    this.addSql(`alter table "agent_jobs" add constraint "agent_jobs_kind_check" check("kind" in ('rescan', 'configureNetworkScan', 'makeCsr', 'deploy', 'validate', 'rollback', 'http01Challenge'));`);

    this.addSql(`alter table "agents" drop column "identity_certificate_pem";`);
  }

}
