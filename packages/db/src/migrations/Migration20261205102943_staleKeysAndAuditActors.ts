import { Migration } from '@mikro-orm/migrations';

export class Migration20261205102943_staleKeysAndAuditActors extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "api_keys" drop constraint if exists "api_keys_revoked_reason_check";`);

    this.addSql(
      `alter table "audit_events" add column "actor_credential_name" varchar(100) null, add column "actor_credential_hint" varchar(16) null;`,
    );
    this.addSql(
      `create index "audit_events_org_action_time_idx" on "audit_events" ("organization_id", "action", "created_at");`,
    );

    this.addSql(`alter table "organizations" add column "key_policy_revoke_unused_days" int null;`);

    this.addSql(`alter table "api_keys" add column "revoked_unused_days" int null;`);
    this.addSql(
      `alter table "api_keys" add constraint "api_keys_revoked_reason_check" check("revoked_reason" in ('settings', 'self', 'leak-report', 'rotation', 'admin', 'unused'));`,
    );

    this.addSql(
      `alter table "api_key_org_access" add column "cut_off_reason" text check ("cut_off_reason" in ('admin', 'unused')) null, add column "cut_off_unused_days" int null;`,
    );
    // Every cut-off made before this migration was an admin's.
    this.addSql(`update "api_key_org_access" set "cut_off_reason" = 'admin' where "cut_off_at" is not null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "api_keys" drop constraint if exists "api_keys_revoked_reason_check";`);

    this.addSql(
      `alter table "api_key_org_access" drop column "cut_off_reason", drop column "cut_off_unused_days";`,
    );

    this.addSql(`alter table "api_keys" drop column "revoked_unused_days";`);

    this.addSql(
      `alter table "api_keys" add constraint "api_keys_revoked_reason_check" check("revoked_reason" in ('settings', 'self', 'leak-report', 'rotation', 'admin'));`,
    );

    this.addSql(`drop index "audit_events_org_action_time_idx";`);
    this.addSql(
      `alter table "audit_events" drop column "actor_credential_name", drop column "actor_credential_hint";`,
    );

    this.addSql(`alter table "organizations" drop column "key_policy_revoke_unused_days";`);
  }
}
