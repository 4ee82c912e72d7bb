import { Migration } from '@mikro-orm/migrations';

export class Migration20261202030434_consent extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "invitations" ("id" uuid not null, "organization_id" uuid not null, "email" varchar(254) not null, "role" text check ("role" in ('viewer', 'member', 'admin', 'owner')) not null, "invited_by_id" uuid null, "token_hash" varchar(64) not null, "status" text check ("status" in ('pending', 'accepted', 'declined', 'cancelled', 'expired')) not null, "expires_at" timestamptz not null, "created_at" timestamptz not null, "responded_at" timestamptz null, constraint "invitations_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "invitations_organization_id_index" on "invitations" ("organization_id");`);
    this.addSql(`create index "invitations_email_index" on "invitations" ("email");`);
    this.addSql(
      `alter table "invitations" add constraint "invitations_token_hash_unique" unique ("token_hash");`,
    );

    this.addSql(
      `create table "account_tokens" ("id" uuid not null, "purpose" text check ("purpose" in ('email-verification', 'password-reset')) not null, "user_id" uuid not null, "email" varchar(254) not null, "token_hash" varchar(64) not null, "expires_at" timestamptz not null, "used_at" timestamptz null, "created_at" timestamptz not null, constraint "account_tokens_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "account_tokens_user_id_index" on "account_tokens" ("user_id");`);
    this.addSql(
      `alter table "account_tokens" add constraint "account_tokens_token_hash_unique" unique ("token_hash");`,
    );

    this.addSql(
      `alter table "invitations" add constraint "invitations_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "invitations" add constraint "invitations_invited_by_id_foreign" foreign key ("invited_by_id") references "users" ("id") on update cascade on delete set null;`,
    );

    this.addSql(
      `alter table "account_tokens" add constraint "account_tokens_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(`alter table "users" add column "email_verified_at" timestamptz null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "invitations" cascade;`);

    this.addSql(`drop table if exists "account_tokens" cascade;`);

    this.addSql(`alter table "users" drop column "email_verified_at";`);
  }
}
