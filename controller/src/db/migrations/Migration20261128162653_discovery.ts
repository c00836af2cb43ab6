import { Migration } from '@mikro-orm/migrations';

export class Migration20261128162653_discovery extends Migration {

  override async up(): Promise<void> {
    // Trigram indexes for substring search; pg_trgm ships with PostgreSQL (contrib) and managed services.
    this.addSql(`create extension if not exists pg_trgm;`);
    this.addSql(`create table "endpoints" ("id" uuid not null, "agent_id" uuid not null, "host" varchar(255) not null, "port" int not null, "server_name" varchar(255) not null, "source" varchar(255) not null, "ok" boolean not null, "leaf_certificate_id" uuid null, "chain_fingerprints" jsonb not null, "chain_complete" boolean null, "name_mismatch" boolean null, "protocol" varchar(255) null, "error" text null, "first_seen_at" timestamptz not null, "last_seen_at" timestamptz not null, "removed_at" timestamptz null, constraint "endpoints_pkey" primary key ("id"));`);
    this.addSql(`create index "endpoints_leaf_certificate_id_index" on "endpoints" ("leaf_certificate_id");`);
    this.addSql(`alter table "endpoints" add constraint "endpoints_agent_id_host_port_server_name_unique" unique ("agent_id", "host", "port", "server_name");`);

    this.addSql(`create table "keystores" ("id" uuid not null, "agent_id" uuid not null, "path" text not null, "kind" varchar(255) not null, "state" varchar(255) not null, "certificates" int not null, "first_seen_at" timestamptz not null, "last_seen_at" timestamptz not null, "removed_at" timestamptz null, constraint "keystores_pkey" primary key ("id"));`);
    this.addSql(`alter table "keystores" add constraint "keystores_agent_id_path_unique" unique ("agent_id", "path");`);

    this.addSql(`create table "service_bindings" ("id" uuid not null, "agent_id" uuid not null, "service" varchar(255) not null, "config_path" text not null, "line" int not null, "certificate_path" text not null, "key_path" text null, "chain_path" text null, "server_names" jsonb not null, "listen" jsonb not null, "first_seen_at" timestamptz not null, "last_seen_at" timestamptz not null, "removed_at" timestamptz null, constraint "service_bindings_pkey" primary key ("id"));`);
    this.addSql(`create index "service_bindings_agent_id_certificate_path_index" on "service_bindings" ("agent_id", "certificate_path");`);
    this.addSql(`alter table "service_bindings" add constraint "service_bindings_agent_id_service_config_path_lin_67d6e_unique" unique ("agent_id", "service", "config_path", "line", "certificate_path");`);

    this.addSql(`alter table "endpoints" add constraint "endpoints_agent_id_foreign" foreign key ("agent_id") references "agents" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "endpoints" add constraint "endpoints_leaf_certificate_id_foreign" foreign key ("leaf_certificate_id") references "certificates" ("id") on update cascade on delete set null;`);

    this.addSql(`alter table "keystores" add constraint "keystores_agent_id_foreign" foreign key ("agent_id") references "agents" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "service_bindings" add constraint "service_bindings_agent_id_foreign" foreign key ("agent_id") references "agents" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "agent_jobs" drop constraint if exists "agent_jobs_kind_check";`);

    this.addSql(`alter table "agents" add column "network_scan" jsonb null;`);

    this.addSql(`alter table "agent_jobs" add constraint "agent_jobs_kind_check" check("kind" in ('rescan', 'configureNetworkScan'));`);

    this.addSql(`create index "certificates_search_text_trgm" on "certificates" using gin ("search_text" gin_trgm_ops);`);

    this.addSql(`alter table "certificate_locations" add column "key_path" text null;`);
    this.addSql(`create index "certificate_locations_current" on "certificate_locations" ("certificate_id") where "removed_at" is null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "endpoints" cascade;`);

    this.addSql(`drop table if exists "keystores" cascade;`);

    this.addSql(`drop table if exists "service_bindings" cascade;`);

    this.addSql(`alter table "agent_jobs" drop constraint if exists "agent_jobs_kind_check";`);

    this.addSql(`alter table "agent_jobs" add constraint "agent_jobs_kind_check" check("kind" in ('rescan'));`);

    this.addSql(`alter table "agents" drop column "network_scan";`);

    this.addSql(`drop index "certificate_locations_current";`);
    this.addSql(`alter table "certificate_locations" drop column "key_path";`);

    this.addSql(`drop index "certificates_search_text_trgm";`);
  }

}
