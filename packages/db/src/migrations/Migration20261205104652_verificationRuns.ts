import { Migration } from '@mikro-orm/migrations';

export class Migration20261205104652_verificationRuns extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "verification_runs" ("id" uuid not null, "organization_id" uuid not null, "project_id" uuid not null, "dataset_id" uuid not null, "pipeline" jsonb not null, "status" text check ("status" in ('queued', 'running', 'succeeded', 'failed', 'cancelled')) not null, "total" int not null default 0, "processed" int not null default 0, "pass_count" int not null default 0, "flag_count" int not null default 0, "fail_count" int not null default 0, "failure" varchar(500) null, "created_by" uuid not null, "created_at" timestamptz not null, "started_at" timestamptz null, "finished_at" timestamptz null, "version" int not null default 1, constraint "verification_runs_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create index "verification_runs_dataset_time_idx" on "verification_runs" ("dataset_id", "created_at", "id");`,
    );
    this.addSql(
      `create index "verification_runs_org_time_idx" on "verification_runs" ("organization_id", "created_at", "id");`,
    );

    this.addSql(
      `create table "verification_results" ("run_id" uuid not null, "item_id" uuid not null, "seq" int not null, "verdict" text check ("verdict" in ('pass', 'flag', 'fail')) not null, "reasons" jsonb not null, "exact_key" varchar(64) not null, "near_key" varchar(64) null, constraint "verification_results_pkey" primary key ("run_id", "item_id"));`,
    );
    this.addSql(
      `create index "verification_results_run_verdict_idx" on "verification_results" ("run_id", "verdict", "seq");`,
    );
    this.addSql(
      `create index "verification_results_run_exact_idx" on "verification_results" ("run_id", "exact_key");`,
    );
    this.addSql(
      `create index "verification_results_run_near_idx" on "verification_results" ("run_id", "near_key");`,
    );
    this.addSql(`create index "verification_results_item_idx" on "verification_results" ("item_id");`);
    this.addSql(
      `alter table "verification_results" add constraint "verification_results_run_seq_unique" unique ("run_id", "seq");`,
    );

    this.addSql(
      `alter table "verification_runs" add constraint "verification_runs_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "verification_runs" add constraint "verification_runs_project_id_foreign" foreign key ("project_id") references "projects" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "verification_runs" add constraint "verification_runs_dataset_id_foreign" foreign key ("dataset_id") references "datasets" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "verification_results" add constraint "verification_results_run_id_foreign" foreign key ("run_id") references "verification_runs" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "verification_results" add constraint "verification_results_item_id_foreign" foreign key ("item_id") references "dataset_items" ("id") on update cascade on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "verification_results" drop constraint "verification_results_run_id_foreign";`);

    this.addSql(`drop table if exists "verification_runs" cascade;`);

    this.addSql(`drop table if exists "verification_results" cascade;`);
  }
}
