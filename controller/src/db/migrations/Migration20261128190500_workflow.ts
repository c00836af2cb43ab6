import { Migration } from '@mikro-orm/migrations';

export class Migration20261128190500_workflow extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "managed_certificates" ("id" uuid not null, "name" varchar(255) not null, "template_id" uuid not null, "dns_names" jsonb not null, "ip_addresses" jsonb not null, "labels" jsonb not null, "targets" jsonb not null, "state" text check ("state" in ('active', 'paused', 'retired')) not null, "adopted_by" varchar(255) not null, "source_certificate_id" uuid null, "current_fingerprint_sha256" varchar(255) null, "current_not_before" timestamptz null, "current_not_after" timestamptz null, "renew_after" timestamptz null, "renewal_computed_with_version" int null, "ari_window_start" timestamptz null, "ari_window_end" timestamptz null, "consecutive_failures" int not null, "backoff_until" timestamptz null, "last_run_id" uuid null, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "managed_certificates_pkey" primary key ("id"));`);
    this.addSql(`alter table "managed_certificates" add constraint "managed_certificates_name_unique" unique ("name");`);
    this.addSql(`create index "managed_certificates_template_id_index" on "managed_certificates" ("template_id");`);
    this.addSql(`create index "managed_certificates_due" on "managed_certificates" ("renew_after") where "state" = 'active';`);
    this.addSql(`create unique index "managed_certificates_source_unique" on "managed_certificates" ("source_certificate_id") where "source_certificate_id" is not null and "state" <> 'retired';`);

    this.addSql(`create table "workflow_runs" ("id" uuid not null, "managed_certificate_id" uuid not null, "template_id" uuid not null, "template_version" int not null, "state" text check ("state" in ('running', 'waiting-approval', 'waiting-operator', 'rollback-failed', 'succeeded', 'failed', 'rejected', 'cancelled', 'rolled-back')) not null, "current_stage" varchar(255) not null, "reason" varchar(255) not null, "requested_by" varchar(255) not null, "context" jsonb not null, "error" text null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "finished_at" timestamptz null, constraint "workflow_runs_pkey" primary key ("id"));`);
    this.addSql(`create index "workflow_runs_managed_certificate_id_index" on "workflow_runs" ("managed_certificate_id");`);
    this.addSql(`create index "workflow_runs_state_created_at_index" on "workflow_runs" ("state", "created_at");`);
    this.addSql(`create unique index "workflow_runs_one_active" on "workflow_runs" ("managed_certificate_id") where "state" not in ('succeeded', 'failed', 'rejected', 'cancelled', 'rolled-back');`);

    this.addSql(`create table "workflow_stages" ("run_id" uuid not null, "stage" varchar(255) not null, "seq" int not null, "state" text check ("state" in ('pending', 'running', 'waiting', 'succeeded', 'skipped', 'failed')) not null, "attempts" int not null, "started_at" timestamptz null, "finished_at" timestamptz null, "active_ms" int not null, "output" jsonb null, "error" text null, "history" jsonb not null, "recheck_at" timestamptz null, "deadline_at" timestamptz null, "stuck_reported_at" timestamptz null, constraint "workflow_stages_pkey" primary key ("run_id", "stage"));`);
    this.addSql(`create index "workflow_stages_recheck" on "workflow_stages" ("recheck_at") where "recheck_at" is not null;`);

    this.addSql(`create table "outbox" ("id" bigserial primary key, "msg_id" varchar(255) not null, "subject" varchar(255) not null, "payload" jsonb not null, "created_at" timestamptz not null, "published_at" timestamptz null);`);
    this.addSql(`alter table "outbox" add constraint "outbox_msg_id_unique" unique ("msg_id");`);
    this.addSql(`create index "outbox_unpublished" on "outbox" ("id") where "published_at" is null;`);

    this.addSql(`create table "approval_requests" ("id" uuid not null, "run_id" uuid not null, "gate" varchar(255) not null, "level" int not null, "level_name" varchar(255) not null, "required" int not null, "approvers" jsonb not null, "state" text check ("state" in ('pending', 'approved', 'rejected', 'bypassed', 'cancelled')) not null, "deadline_at" timestamptz not null, "deadline_reported_at" timestamptz null, "created_at" timestamptz not null, "decided_at" timestamptz null, constraint "approval_requests_pkey" primary key ("id"));`);
    this.addSql(`create index "approval_requests_run_id_index" on "approval_requests" ("run_id");`);
    this.addSql(`alter table "approval_requests" add constraint "approval_requests_run_id_gate_level_unique" unique ("run_id", "gate", "level");`);
    this.addSql(`create index "approval_requests_pending" on "approval_requests" ("deadline_at") where "state" = 'pending';`);

    this.addSql(`create table "approval_decisions" ("id" uuid not null, "approval_request_id" uuid not null, "run_id" uuid not null, "approver_token_id" varchar(255) not null, "approver_name" varchar(255) not null, "decision" text check ("decision" in ('approve', 'reject', 'bypass')) not null, "comment" text null, "via" varchar(255) not null, "created_at" timestamptz not null, constraint "approval_decisions_pkey" primary key ("id"));`);
    this.addSql(`create index "approval_decisions_run_id_index" on "approval_decisions" ("run_id");`);
    this.addSql(`alter table "approval_decisions" add constraint "approval_decisions_approval_request_id_approver_token_id_unique" unique ("approval_request_id", "approver_token_id");`);

    this.addSql(`create table "approval_links" ("id" uuid not null, "approval_request_id" uuid not null, "run_id" uuid not null, "approver_token_id" varchar(255) not null, "expires_at" timestamptz not null, "used_at" timestamptz null, "created_at" timestamptz not null, constraint "approval_links_pkey" primary key ("id"));`);
    this.addSql(`create index "approval_links_approval_request_id_index" on "approval_links" ("approval_request_id");`);

    this.addSql(`create table "scheduler_state" ("key" varchar(255) not null, "value" jsonb not null, "updated_at" timestamptz not null, constraint "scheduler_state_pkey" primary key ("key"));`);
  }

  override async down(): Promise<void> {
    for (const table of ['scheduler_state', 'approval_links', 'approval_decisions', 'approval_requests', 'outbox', 'workflow_stages', 'workflow_runs', 'managed_certificates']) {
      this.addSql(`drop table if exists "${table}" cascade;`);
    }
  }

}
