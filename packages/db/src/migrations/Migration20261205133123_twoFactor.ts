import { Migration } from '@mikro-orm/migrations';

export class Migration20261205133123_twoFactor extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "recovery_codes" ("id" uuid not null, "user_id" uuid not null, "code_hash" varchar(64) not null, "used_at" timestamptz null, "created_at" timestamptz not null, constraint "recovery_codes_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "recovery_codes_user_id_index" on "recovery_codes" ("user_id");`);
    this.addSql(
      `alter table "recovery_codes" add constraint "recovery_codes_code_hash_unique" unique ("code_hash");`,
    );

    this.addSql(
      `create table "passkeys" ("id" uuid not null, "user_id" uuid not null, "credential_id" varchar(1024) not null, "public_key" bytea not null, "counter" bigint not null default 0, "transports" text[] null, "device_type" varchar(32) not null, "backed_up" boolean not null default false, "name" varchar(100) not null, "created_at" timestamptz not null, "last_used_at" timestamptz null, constraint "passkeys_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "passkeys_user_id_index" on "passkeys" ("user_id");`);
    this.addSql(
      `alter table "passkeys" add constraint "passkeys_credential_id_unique" unique ("credential_id");`,
    );

    this.addSql(
      `create table "auth_challenges" ("id" varchar(32) not null, "secret_hash" varchar(64) null, "purpose" text check ("purpose" in ('sign-in', 'passkey-registration', 'passkey-authentication')) not null, "user_id" uuid null, "session_id" varchar(32) null, "webauthn_challenge" varchar(128) null, "attempts" int not null default 0, "created_at" timestamptz not null, "expires_at" timestamptz not null, constraint "auth_challenges_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "auth_challenges_user_id_index" on "auth_challenges" ("user_id");`);
    this.addSql(`create index "auth_challenges_expires_at_index" on "auth_challenges" ("expires_at");`);

    this.addSql(
      `create table "user_totp" ("id" uuid not null, "user_id" uuid not null, "secret_ciphertext" text not null, "last_used_step" bigint null, "confirmed_at" timestamptz null, "created_at" timestamptz not null, constraint "user_totp_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "user_totp" add constraint "user_totp_user_id_unique" unique ("user_id");`);

    this.addSql(
      `alter table "recovery_codes" add constraint "recovery_codes_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "passkeys" add constraint "passkeys_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "auth_challenges" add constraint "auth_challenges_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "auth_challenges" add constraint "auth_challenges_session_id_foreign" foreign key ("session_id") references "sessions" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "user_totp" add constraint "user_totp_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "organizations" add column "require_two_factor" boolean not null default false;`,
    );

    this.addSql(
      `alter table "sessions" add column "auth_method" varchar(32) not null default 'password', add column "verified_at" timestamptz null, add column "verified_method" varchar(32) null;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "recovery_codes" cascade;`);

    this.addSql(`drop table if exists "passkeys" cascade;`);

    this.addSql(`drop table if exists "auth_challenges" cascade;`);

    this.addSql(`drop table if exists "user_totp" cascade;`);

    this.addSql(`alter table "organizations" drop column "require_two_factor";`);

    this.addSql(
      `alter table "sessions" drop column "auth_method", drop column "verified_at", drop column "verified_method";`,
    );
  }
}
