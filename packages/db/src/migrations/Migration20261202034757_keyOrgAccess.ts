import { Migration } from '@mikro-orm/migrations';

export class Migration20261202034757_keyOrgAccess extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "api_key_org_access" ("id" uuid not null, "api_key_id" uuid not null, "organization_id" uuid not null, "last_used_at" timestamptz null, "last_used_ip" varchar(64) null, "cut_off_at" timestamptz null, "cut_off_by" uuid null, constraint "api_key_org_access_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create index "api_key_org_access_organization_id_index" on "api_key_org_access" ("organization_id");`,
    );
    this.addSql(
      `alter table "api_key_org_access" add constraint "api_key_org_access_key_org_unique" unique ("api_key_id", "organization_id");`,
    );

    this.addSql(
      `alter table "api_key_org_access" add constraint "api_key_org_access_api_key_id_foreign" foreign key ("api_key_id") references "api_keys" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "api_key_org_access" add constraint "api_key_org_access_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "api_key_org_access" cascade;`);
  }
}
