import { Migration } from '@mikro-orm/migrations';

export class Migration20261202023137_sessionTokens extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "session_tokens" ("id" uuid not null, "hash" varchar(64) not null, "hint" varchar(16) not null, "audience" varchar(100) not null, "session_id" varchar(32) not null, "user_id" uuid not null, "created_at" timestamptz not null, "expires_at" timestamptz not null, "last_used_at" timestamptz null, constraint "session_tokens_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "session_tokens" add constraint "session_tokens_hash_unique" unique ("hash");`);
    this.addSql(`create index "session_tokens_session_id_index" on "session_tokens" ("session_id");`);

    this.addSql(
      `alter table "session_tokens" add constraint "session_tokens_session_id_foreign" foreign key ("session_id") references "sessions" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "session_tokens" add constraint "session_tokens_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(`alter table "audit_events" drop constraint if exists "audit_events_actor_type_check";`);

    this.addSql(`alter table "audit_events" add column "actor_token_id" uuid null;`);
    this.addSql(
      `alter table "audit_events" add constraint "audit_events_actor_type_check" check("actor_type" in ('user', 'key', 'session-token', 'anonymous', 'system'));`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "session_tokens" cascade;`);

    this.addSql(`alter table "audit_events" drop constraint if exists "audit_events_actor_type_check";`);

    this.addSql(`alter table "audit_events" drop column "actor_token_id";`);

    this.addSql(
      `alter table "audit_events" add constraint "audit_events_actor_type_check" check("actor_type" in ('user', 'key', 'anonymous', 'system'));`,
    );
  }
}
