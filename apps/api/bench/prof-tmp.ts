import { fork } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, startEmbeddedPostgres } from '@crowdee/db';
import { seedKey, startBenchServer } from '/work/main/apps/api/bench/run.ts';
import { testConfig } from '/work/main/apps/api/src/config.ts';

const pg = await startEmbeddedPostgres({ dataDir: mkdtempSync(join(tmpdir(), 'p-')), ephemeral: true });
const orm = await openDatabase({ url: pg.url });
const server = await startBenchServer(orm, testConfig());
const key = await seedKey(server.deps);
const path = process.argv[2] ?? '/api/v1/me';
const run = (d: number) =>
  new Promise<void>((resolve) => {
    const child = fork('/work/main/apps/api/bench/load-worker.ts', [], { execArgv: ['--import', 'tsx'] });
    child.once('message', (m) => {
      console.log(JSON.stringify(m));
      child.kill();
      resolve();
    });
    child.send({
      url: `${server.url}${path}`,
      headers: { authorization: `Bearer ${key}`, accept: 'application/json' },
      connections: 32,
      durationSeconds: d,
    });
  });
await run(2);
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.start');
await run(5);
const { profile } = await session.post('Profiler.stop');
writeFileSync('/tmp/req.cpuprofile', JSON.stringify(profile));
await server.close();
await orm.close();
await pg.stop();
process.exit(0);
