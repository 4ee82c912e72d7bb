import { Migration } from '@mikro-orm/migrations';

export class Migration20261205103152_keyRestrictions extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "api_keys" add column "permissions" text[] null, add column "allowed_ips" text[] null;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "api_keys" drop column "permissions", drop column "allowed_ips";`);
  }
}
