import { Migration } from '@mikro-orm/migrations';

export class Migration20261205102944_datasets extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "idempotency_records" ("id" uuid not null, "principal" varchar(100) not null, "key" varchar(255) not null, "method" varchar(10) not null, "path" varchar(2048) not null, "fingerprint" varchar(64) null, "status" int null, "content_type" varchar(255) null, "response_body" text null, "locked_until" timestamptz not null, "created_at" timestamptz not null, "expires_at" timestamptz not null, constraint "idempotency_records_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create index "idempotency_records_expires_at_index" on "idempotency_records" ("expires_at");`,
    );
    this.addSql(
      `alter table "idempotency_records" add constraint "idempotency_records_principal_key_unique" unique ("principal", "key");`,
    );

    this.addSql(
      `create table "datasets" ("id" uuid not null, "organization_id" uuid not null, "project_id" uuid not null, "name" varchar(100) not null, "description" varchar(2000) null, "created_by" uuid not null, "created_at" timestamptz not null, "item_count" int not null default 0, constraint "datasets_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "datasets_organization_id_index" on "datasets" ("organization_id");`);
    this.addSql(`create index "datasets_project_time_idx" on "datasets" ("project_id", "created_at", "id");`);
    this.addSql(
      `alter table "datasets" add constraint "datasets_project_name_unique" unique ("project_id", "name");`,
    );

    this.addSql(
      `create table "dataset_items" ("id" uuid not null, "dataset_id" uuid not null, "external_id" varchar(200) not null, "kind" text check ("kind" in ('file', 'text')) not null, "name" varchar(255) null, "media_type" varchar(255) not null, "size" int not null, "sha256" varchar(64) not null, "text" text null, "content" bytea null, "created_at" timestamptz not null, constraint "dataset_items_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create index "dataset_items_dataset_time_idx" on "dataset_items" ("dataset_id", "created_at", "id");`,
    );
    this.addSql(
      `create index "dataset_items_dataset_sha256_idx" on "dataset_items" ("dataset_id", "sha256");`,
    );
    this.addSql(
      `alter table "dataset_items" add constraint "dataset_items_dataset_external_id_unique" unique ("dataset_id", "external_id");`,
    );

    this.addSql(
      `alter table "datasets" add constraint "datasets_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "datasets" add constraint "datasets_project_id_foreign" foreign key ("project_id") references "projects" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "dataset_items" add constraint "dataset_items_dataset_id_foreign" foreign key ("dataset_id") references "datasets" ("id") on update cascade on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "dataset_items" drop constraint "dataset_items_dataset_id_foreign";`);

    this.addSql(`drop table if exists "idempotency_records" cascade;`);

    this.addSql(`drop table if exists "datasets" cascade;`);

    this.addSql(`drop table if exists "dataset_items" cascade;`);
  }
}
