/**
 * Writes a migration for whatever the entities changed, diffed against a throw-away embedded PostgreSQL that has
 * every committed migration applied, then regenerates `migrations/index.ts`. Usage:
 *   pnpm --filter @crowdee/db migration:create [name]
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../embedded-postgres.ts';
import { MIGRATIONS_PATH, openDatabase } from '../orm.ts';

const dir = mkdtempSync(join(tmpdir(), 'crowdee-migration-'));
const pg = await startEmbeddedPostgres({ dataDir: dir, ephemeral: true });
try {
  const orm = await openDatabase({ url: pg.url, writeSnapshot: true });
  const result = await orm.getMigrator().createMigration(MIGRATIONS_PATH, false, false, process.argv[2]);
  await orm.close();
  if (result.diff.up.length === 0) {
    console.log('No schema changes: no migration written.');
  } else {
    console.log(`Wrote ${result.fileName}`);
  }
  const files = readdirSync(MIGRATIONS_PATH)
    .filter((f) => /^Migration\d+.*\.ts$/.test(f))
    .sort();
  const names = files.map((f) => f.replace(/\.ts$/, ''));
  const index = [
    "import type { MigrationObject } from '@mikro-orm/core';",
    ...names.map((n) => `import { ${n.replace(/[^A-Za-z0-9_]/g, '_')} } from './${n}.ts';`),
    '',
    '/** Every migration, in order. Listed explicitly so bundling or a different working directory can never skip one. */',
    'export const migrationsList: MigrationObject[] = [',
    ...names.map((n) => `  { name: '${n}', class: ${n.replace(/[^A-Za-z0-9_]/g, '_')} },`),
    '];',
    '',
  ].join('\n');
  writeFileSync(join(MIGRATIONS_PATH, 'index.ts'), index);
} finally {
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
}
