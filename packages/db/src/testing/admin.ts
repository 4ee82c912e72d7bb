import pg from 'pg';

export const RUN_PREFIX = 'crowdee_t';

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export async function adminQuery(
  adminUrl: string,
  sql: string,
  params: unknown[] = [],
): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}

export async function dropDatabases(adminUrl: string, prefix: string): Promise<void> {
  const found = await adminQuery(adminUrl, 'select datname from pg_database where datname like $1', [
    `${prefix}%`,
  ]);
  for (const row of found.rows as { datname: string }[]) {
    await adminQuery(adminUrl, `drop database if exists "${row.datname}" with (force)`);
  }
}
