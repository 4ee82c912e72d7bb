import { fileURLToPath } from 'node:url';
import { Migrator } from '@mikro-orm/migrations';
import { defineConfig, MikroORM, type Options } from '@mikro-orm/postgresql';
import { entities } from './entities/index.ts';
import { migrationsList } from './migrations/index.ts';

export type Orm = MikroORM;

export interface DatabaseOptions {
  url: string;
  /** Connection pool size. */
  poolMax?: number;
  /** Receives MikroORM's own warnings and errors (never query text with parameters). */
  log?: (message: string) => void;
}

export const MIGRATIONS_PATH = fileURLToPath(new URL('./migrations', import.meta.url));

export function ormConfig(options: DatabaseOptions & { writeSnapshot?: boolean }): Options {
  return defineConfig({
    clientUrl: options.url,
    entities,
    extensions: [Migrator],
    // Entities are listed explicitly; nothing is discovered from folders or reflected from decorators.
    discovery: { disableDynamicFileAccess: true, warnWhenNoEntities: true },
    forceUtcTimezone: true,
    // Every request forks its own EntityManager; using the global one is a bug we want to hear about.
    allowGlobalContext: false,
    pool: { min: 0, max: options.poolMax ?? 10 },
    debug: false,
    logger: (message) => options.log?.(message),
    // knex reports dropped connections (a database restart) on console.warn by default: unstructured lines that
    // bypass the app's logger. They go where MikroORM's own messages go.
    driverOptions: {
      log: {
        warn: (message: string) => options.log?.(`knex: ${message}`),
        error: (message: string) => options.log?.(`knex: ${message}`),
        deprecate: (message: string) => options.log?.(`knex: ${message}`),
        debug: () => {},
      },
    },
    migrations: {
      tableName: 'mikro_orm_migrations',
      path: MIGRATIONS_PATH,
      migrationsList,
      transactional: true,
      allOrNothing: true,
      // The schema snapshot is a development artefact for `migration:create`; applying migrations never writes it.
      snapshot: options.writeSnapshot === true,
      snapshotName: '.snapshot-crowdee',
      silent: true,
    },
  });
}

/** Connects and applies every pending migration: the schema is always current before the first request. */
export async function openDatabase(options: DatabaseOptions & { writeSnapshot?: boolean }): Promise<Orm> {
  const orm = await MikroORM.init(ormConfig(options));
  await orm.getMigrator().up();
  return orm;
}

/**
 * Counts SQL statements sent through the ORM's connection (the benchmark's "statements per 10,000 requests").
 * Returns a function that stops counting.
 */
export function countStatements(orm: Orm, onStatement: () => void): () => void {
  const knex = orm.em.getConnection().getKnex();
  const listener = () => onStatement();
  knex.on('query', listener);
  return () => {
    knex.off('query', listener);
  };
}

/** A cheap round trip for health checks. */
export async function pingDatabase(orm: Orm): Promise<void> {
  await orm.em.getConnection().execute('select 1');
}
