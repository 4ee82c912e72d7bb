import { Migration } from '@mikro-orm/migrations';

export class Migration20261128072459_initial extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "audit_events" ("id" uuid not null, "action" varchar(64) not null, "actor_type" text check ("actor_type" in ('user', 'key', 'anonymous', 'system')) not null, "actor_user_id" uuid null, "actor_key_id" uuid null, "organization_id" uuid null, "target_type" varchar(32) null, "target_id" varchar(64) null, "ip" varchar(64) null, "user_agent" varchar(512) null, "metadata" jsonb null, "created_at" timestamptz not null, constraint "audit_events_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create index "audit_events_org_time_idx" on "audit_events" ("organization_id", "created_at", "id");`,
    );
    this.addSql(
      `create index "audit_events_actor_time_idx" on "audit_events" ("actor_user_id", "created_at");`,
    );

    this.addSql(
      `create table "organizations" ("id" uuid not null, "name" varchar(100) not null, "key_policy_require_expiry" boolean not null default false, "key_policy_max_lifetime_days" int null, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "organizations_pkey" primary key ("id"));`,
    );

    this.addSql(
      `create table "projects" ("id" uuid not null, "organization_id" uuid not null, "name" varchar(100) not null, "description" varchar(2000) null, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "projects_pkey" primary key ("id"));`,
    );
    this.addSql(
      `alter table "projects" add constraint "projects_org_name_unique" unique ("organization_id", "name");`,
    );

    this.addSql(
      `create table "users" ("id" uuid not null, "email" varchar(254) not null, "name" varchar(200) not null, "password_hash" text not null, "created_at" timestamptz not null, constraint "users_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "users" add constraint "users_email_unique" unique ("email");`);

    this.addSql(
      `create table "sessions" ("id" varchar(32) not null, "secret_hash" varchar(64) not null, "user_id" uuid not null, "active_organization_id" uuid null, "created_at" timestamptz not null, "last_seen_at" timestamptz not null, "expires_at" timestamptz not null, "ip" varchar(64) null, "user_agent" varchar(512) null, constraint "sessions_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "sessions_user_id_index" on "sessions" ("user_id");`);

    this.addSql(
      `create table "memberships" ("id" uuid not null, "user_id" uuid not null, "organization_id" uuid not null, "role" text check ("role" in ('viewer', 'member', 'admin', 'owner')) not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "memberships_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "memberships_organization_id_index" on "memberships" ("organization_id");`);
    this.addSql(
      `alter table "memberships" add constraint "memberships_user_org_unique" unique ("user_id", "organization_id");`,
    );

    this.addSql(
      `create table "api_keys" ("id" uuid not null, "name" varchar(100) not null, "hash" varchar(64) not null, "hint" varchar(16) not null, "role" text check ("role" in ('viewer', 'member', 'admin')) not null, "creator_id" uuid not null, "scope_org_ids" uuid[] null, "expires_at" timestamptz null, "revoked_at" timestamptz null, "revoked_reason" text check ("revoked_reason" in ('settings', 'self', 'leak-report', 'rotation', 'admin')) null, "revoked_by" uuid null, "last_used_at" timestamptz null, "last_used_ip" varchar(64) null, "rotated_from" uuid null, "created_at" timestamptz not null, constraint "api_keys_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "api_keys" add constraint "api_keys_hash_unique" unique ("hash");`);
    this.addSql(`create index "api_keys_creator_id_index" on "api_keys" ("creator_id");`);

    this.addSql(
      `create table "rate_limit_overrides" ("id" uuid not null, "organization_id" uuid null, "api_key_id" uuid null, "quota" int not null, "window_seconds" int not null, "reason" varchar(500) not null, "expires_at" timestamptz null, "created_by" varchar(200) not null, "created_at" timestamptz not null, constraint "rate_limit_overrides_pkey" primary key ("id"), constraint rate_limit_overrides_one_target check ((organization_id is null) <> (api_key_id is null)), constraint rate_limit_overrides_positive check (quota > 0 and window_seconds > 0));`,
    );
    this.addSql(
      `create index "rate_limit_overrides_organization_id_index" on "rate_limit_overrides" ("organization_id");`,
    );
    this.addSql(
      `create index "rate_limit_overrides_api_key_id_index" on "rate_limit_overrides" ("api_key_id");`,
    );

    this.addSql(
      `alter table "projects" add constraint "projects_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "sessions" add constraint "sessions_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "sessions" add constraint "sessions_active_organization_id_foreign" foreign key ("active_organization_id") references "organizations" ("id") on update cascade on delete set null;`,
    );

    this.addSql(
      `alter table "memberships" add constraint "memberships_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "memberships" add constraint "memberships_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "api_keys" add constraint "api_keys_creator_id_foreign" foreign key ("creator_id") references "users" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "rate_limit_overrides" add constraint "rate_limit_overrides_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "rate_limit_overrides" add constraint "rate_limit_overrides_api_key_id_foreign" foreign key ("api_key_id") references "api_keys" ("id") on update cascade on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "projects" drop constraint "projects_organization_id_foreign";`);

    this.addSql(`alter table "sessions" drop constraint "sessions_active_organization_id_foreign";`);

    this.addSql(`alter table "memberships" drop constraint "memberships_organization_id_foreign";`);

    this.addSql(
      `alter table "rate_limit_overrides" drop constraint "rate_limit_overrides_organization_id_foreign";`,
    );

    this.addSql(`alter table "sessions" drop constraint "sessions_user_id_foreign";`);

    this.addSql(`alter table "memberships" drop constraint "memberships_user_id_foreign";`);

    this.addSql(`alter table "api_keys" drop constraint "api_keys_creator_id_foreign";`);

    this.addSql(
      `alter table "rate_limit_overrides" drop constraint "rate_limit_overrides_api_key_id_foreign";`,
    );

    this.addSql(`drop table if exists "audit_events" cascade;`);

    this.addSql(`drop table if exists "organizations" cascade;`);

    this.addSql(`drop table if exists "projects" cascade;`);

    this.addSql(`drop table if exists "users" cascade;`);

    this.addSql(`drop table if exists "sessions" cascade;`);

    this.addSql(`drop table if exists "memberships" cascade;`);

    this.addSql(`drop table if exists "api_keys" cascade;`);

    this.addSql(`drop table if exists "rate_limit_overrides" cascade;`);
  }
}
