import { Migration } from '@mikro-orm/migrations';

export class Migration20261205103016_usageAndLimitRequests extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "api_key_recent_ips" ("api_key_id" uuid not null, "ip" varchar(64) not null, "last_seen_at" timestamptz not null, constraint "api_key_recent_ips_pkey" primary key ("api_key_id", "ip"));`,
    );

    this.addSql(
      `create table "limit_requests" ("id" uuid not null, "organization_id" uuid not null, "requested_by" uuid not null, "quota" int not null, "window_seconds" int not null, "justification" varchar(1000) not null, "until" timestamptz null, "status" text check ("status" in ('pending', 'approved', 'denied')) not null, "created_at" timestamptz not null, "decided_at" timestamptz null, "decided_by" varchar(200) null, "decision_note" varchar(500) null, "override_id" uuid null, constraint "limit_requests_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create index "limit_requests_org_time_idx" on "limit_requests" ("organization_id", "created_at");`,
    );
    this.addSql(
      `create unique index "limit_requests_one_pending_per_org" on "limit_requests" ("organization_id") where "status" = 'pending';`,
    );

    this.addSql(
      `create table "usage_hourly" ("subject_kind" text check ("subject_kind" in ('key', 'org')) not null, "subject_id" uuid not null, "hour" timestamptz not null, "ok" int not null default 0, "client_error" int not null default 0, "rate_limited" int not null default 0, "server_error" int not null default 0, constraint "usage_hourly_pkey" primary key ("subject_kind", "subject_id", "hour"));`,
    );
    this.addSql(`create index "usage_hourly_hour_idx" on "usage_hourly" ("hour");`);

    this.addSql(
      `alter table "limit_requests" add constraint "limit_requests_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "api_key_recent_ips" cascade;`);

    this.addSql(`drop table if exists "limit_requests" cascade;`);

    this.addSql(`drop table if exists "usage_hourly" cascade;`);
  }
}
