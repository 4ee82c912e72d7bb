import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../src/embedded-postgres.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'crowdee-embedded-test-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function query(url: string, sql: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs the fixture in a separate Node process and resolves once its database is up. */
function holdInChild(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'fixtures/hold-embedded.ts'), dataDir],
    {
      cwd: join(import.meta.dirname, '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve({ child, url: (JSON.parse(line) as { url: string }).url });
    });
    child.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.once('exit', (code) => reject(new Error(`fixture exited with ${code}: ${err}`)));
  });
}

describe('embedded PostgreSQL', () => {
  it('starts on a port of its own, never the standard one, and persists data across restarts', async () => {
    const dir = tempDir();
    const first = await startEmbeddedPostgres({ dataDir: dir });
    expect(first.port).not.toBe(5432);
    await query(first.url, 'create table kept (v text); insert into kept values ($$still here$$)');
    await first.stop();

    const second = await startEmbeddedPostgres({ dataDir: dir });
    try {
      expect(await query(second.url, 'select v from kept')).toEqual([{ v: 'still here' }]);
      expect(await query(second.url, 'show server_version_num')).toHaveLength(1);
    } finally {
      await second.stop();
    }
    expect(existsSync(join(dir, 'owner.pid'))).toBe(false);
  });

  it('sends its output through a pipe only to a log callback; without one, to postgres.log', async () => {
    const dir = tempDir();
    const quiet = await startEmbeddedPostgres({ dataDir: dir, ephemeral: true });
    await quiet.stop();
    const file = readFileSync(join(dir, 'postgres.log'), 'utf8');
    expect(file).toContain('database system is ready to accept connections');
    expect(file).toContain('database system is shut down');
    const lines: string[] = [];
    const heard = await startEmbeddedPostgres({ dataDir: dir, ephemeral: true, log: (l) => lines.push(l) });
    await heard.stop();
    expect(lines.some((l) => l.includes('database system is ready to accept connections'))).toBe(true);
    // That run's lines went to the callback, not to the file.
    expect(readFileSync(join(dir, 'postgres.log'), 'utf8')).toBe(file);
  });

  it('refuses to share a folder with another live process', async () => {
    const dir = tempDir();
    const { child } = await holdInChild(dir);
    try {
      await expect(startEmbeddedPostgres({ dataDir: dir })).rejects.toThrow(/Another process \(pid \d+\)/);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });

  it('copes with a stale server left behind by a killed process', async () => {
    const dir = tempDir();
    const { child } = await holdInChild(dir);
    const stalePid = Number(readFileSync(join(dir, 'pgdata', 'postmaster.pid'), 'utf8').split('\n')[0]);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // kill -9 gives the parent no chance to stop its child: the postgres server is still running.
    expect(pidAlive(stalePid)).toBe(true);

    const fresh = await startEmbeddedPostgres({ dataDir: dir });
    try {
      expect(pidAlive(stalePid)).toBe(false);
      expect(await query(fresh.url, 'select 1 as ok')).toEqual([{ ok: 1 }]);
    } finally {
      await fresh.stop();
    }
  });

  it.skipIf(process.getuid?.() !== 0)(
    'as root, reaches a data folder inside private (0700) folders',
    async () => {
      const outer = tempDir();
      chmodSync(outer, 0o700);
      const inner = join(outer, 'private', 'project');
      mkdirSync(inner, { recursive: true, mode: 0o700 });
      const notices: string[] = [];
      const pg = await startEmbeddedPostgres({
        dataDir: join(inner, '.data'),
        notice: (line) => notices.push(line),
      });
      try {
        expect(await query(pg.url, 'select 1 as ok')).toEqual([{ ok: 1 }]);
        expect(notices.some((n) => n.includes(outer))).toBe(true);
        expect(statSync(outer).mode & 0o007).toBe(0o001);
      } finally {
        await pg.stop();
      }
    },
  );

  it('starts over when a first initialisation was interrupted', async () => {
    const dir = tempDir();
    const first = await startEmbeddedPostgres({ dataDir: dir });
    await first.stop();
    rmSync(join(dir, 'initialised'));
    const again = await startEmbeddedPostgres({ dataDir: dir });
    try {
      expect(await query(again.url, 'select 1 as ok')).toEqual([{ ok: 1 }]);
    } finally {
      await again.stop();
    }
  });
});
