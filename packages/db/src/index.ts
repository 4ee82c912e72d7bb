export * from './embedded-postgres.ts';
export * from './entities/index.ts';
export * from './orm.ts';
