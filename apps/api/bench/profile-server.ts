/**
 * The server half of `pnpm bench:profile`: started by bench/profile.ts with `--cpu-prof`, it serves the app on a
 * free port with a seeded key (on DATABASE_URL, else on an embedded PostgreSQL of its own, as `pnpm start` runs), tells its parent where (over IPC, so the key never reaches a command line), marks
 * the start and end of the load on V8's clock, and exits cleanly on request so Node writes the profile.
 */
import { openDatabase, serverOrThrowAwayPostgres } from '@crowdee/db';
import { testConfig } from '../src/config.ts';
import { limitsOnConfig, seedKey, startBenchServer } from './run.ts';

export type ProfileServerMessage =
  | { kind: 'ready'; url: string; key: string }
  | { kind: 'mark'; name: string; micros: number };

export type ProfileParentMessage = { kind: 'mark'; name: string } | { kind: 'stop' };

/** The same monotonic clock V8's CPU profiler stamps its samples with (microseconds). */
const nowMicros = () => Number(process.hrtime.bigint() / 1000n);

async function main(): Promise<void> {
  // Like `pnpm start`: the embedded PostgreSQL is this process's child, so its pipes show in the profile.
  const { url, stop: stopPg } = await serverOrThrowAwayPostgres(
    process.env.DATABASE_URL,
    'crowdee-profile-pg-',
  );
  const orm = await openDatabase({ url });
  const server = await startBenchServer(
    orm,
    process.env.PROFILE_RATE_LIMITS === 'memory' ? limitsOnConfig('profile') : testConfig(),
  );
  const key = await seedKey(server.deps);
  const send = (message: ProfileServerMessage) => process.send?.(message);
  process.on('message', (message: ProfileParentMessage) => {
    if (message.kind === 'mark') send({ kind: 'mark', name: message.name, micros: nowMicros() });
    else
      void server
        .close()
        .then(() => orm.close())
        .then(stopPg)
        .then(() => process.exit(0));
  });
  send({ kind: 'ready', url: server.url, key });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
