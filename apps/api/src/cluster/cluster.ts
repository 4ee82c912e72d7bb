/**
 * A real multi-node deployment on one machine: N API processes on one PostgreSQL and one Redis, behind nginx.
 * Used by `pnpm cluster` (cluster-main.ts) and by the cluster test and benchmark, so what is tested is what
 * runs. Every process it starts is stopped by `stop()`, and killed outright if this process exits first.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, openDatabase, type RunningPostgres, startEmbeddedPostgres } from '@crowdee/db';
import { startNginx } from './nginx.ts';
import { startRedisServer } from './redis-server.ts';
import { portOpen, waitFor } from './wait.ts';

/** apps/api, found from this file whether it runs from src/cluster (tsx) or from the dist bundle. */
function findApiDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (
      existsSync(pkg) &&
      (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === '@crowdee/api'
    )
      return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the @crowdee/api package folder');
    dir = parent;
  }
}

const apiDir = findApiDir();

export interface ClusterOptions {
  /** API processes (default 3). */
  nodes?: number;
  /** A PostgreSQL server; without it the embedded one starts (under `dataDir`, or a throw-away folder). */
  databaseUrl?: string | undefined;
  dataDir?: string | undefined;
  /** A Redis server; without it a private `redis-server` starts on a free port. */
  redisUrl?: string | undefined;
  /** The balancer's port (default: a free one). */
  port?: number | undefined;
  /** `dist`: the built bundle (what `pnpm cluster` runs); `source`: TypeScript through tsx (tests). */
  entry?: 'dist' | 'source';
  /** Extra environment for every node (rate limits, log level, INVALIDATION_CHANNEL…). */
  env?: Record<string, string>;
  /** Copy every node's output to this process's stdout, prefixed with the node's name. */
  echo?: boolean;
  /** Progress lines for a person watching. */
  log?: (line: string) => void;
}

export interface ClusterNode {
  id: string;
  port: number;
  url: string;
  logFile: string;
  alive(): boolean;
  /** Sends a signal and waits for the process to end. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

export interface Cluster {
  /** The load balancer: what clients use. */
  url: string;
  nodes: ClusterNode[];
  databaseUrl: string;
  redisUrl: string;
  /** Private folder: nginx configuration and logs, node logs, a private Redis's files. */
  dir: string;
  stop(): Promise<void>;
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    timer.unref();
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function terminate(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  if (await waitExit(child, graceMs)) return;
  child.kill('SIGKILL');
  await waitExit(child, 5_000);
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const log = options.log ?? (() => {});
  const count = options.nodes ?? 3;
  if (!Number.isInteger(count) || count < 1 || count > 32) throw new Error('nodes must be 1–32');
  const dir = mkdtempSync(join(tmpdir(), 'crowdee-cluster-'));
  // nginx's workers run unprivileged (as nobody when we are root) and must reach their temp folders in here.
  chmodSync(dir, 0o711);

  const procs: { balancer?: ChildProcess; nodes: ChildProcess[]; redis?: ChildProcess } = { nodes: [] };
  const all = () => [procs.balancer, ...procs.nodes, procs.redis].filter((c) => c !== undefined);
  let embedded: RunningPostgres | undefined;
  // Safety net: if this process ends without stop() (a crash, process.exit), nothing is left running.
  const killAll = () => {
    for (const child of all())
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killAll);

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      // Balancer first (no new requests), then the nodes drain, then the stores they used.
      if (procs.balancer) await terminate(procs.balancer, 'SIGQUIT', 5_000);
      await Promise.all(procs.nodes.map((c) => terminate(c, 'SIGTERM', 12_000)));
      if (procs.redis) await terminate(procs.redis, 'SIGTERM', 5_000);
      await embedded?.stop();
      process.removeListener('exit', killAll);
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopping;
  };

  try {
    const balancerPort = options.port ?? (await freePort());

    let databaseUrl = options.databaseUrl;
    if (!databaseUrl) {
      const dataDir = options.dataDir ?? join(dir, 'postgres');
      log(`starting the embedded PostgreSQL in ${dataDir}`);
      embedded = await startEmbeddedPostgres({ dataDir, ephemeral: options.dataDir === undefined });
      databaseUrl = embedded.url;
    }
    // Migrate once, before any node starts: the nodes then find nothing to do instead of racing each other.
    const orm = await openDatabase({ url: databaseUrl, poolMax: 1 });
    await orm.close();

    let redisUrl = options.redisUrl;
    if (!redisUrl) {
      const port = await freePort();
      log(`starting a private redis-server on 127.0.0.1:${port}`);
      procs.redis = await startRedisServer(dir, port);
      redisUrl = `redis://127.0.0.1:${port}`;
    }

    const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
    const entryArgs =
      options.entry === 'source'
        ? ['--import', 'tsx', join(apiDir, 'src/main.ts')]
        : ['--enable-source-maps', join(apiDir, 'dist/main.js')];
    const nodes: ClusterNode[] = [];
    const nodeChildren = procs.nodes;
    for (const [index, port] of ports.entries()) {
      const id = `node-${index + 1}`;
      const logFile = join(dir, `${id}.log`);
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        NODE_ENV: 'production',
        LOG_LEVEL: 'warn',
        ...options.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        NODE_ID: id,
        DATABASE_URL: databaseUrl,
        REDIS_URL: redisUrl,
        // Only nginx on this machine may vouch for a client's address; clients cannot reach the nodes otherwise.
        TRUSTED_PROXIES: 'loopback',
      };
      const child = spawn(process.execPath, entryArgs, {
        cwd: apiDir,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      nodeChildren.push(child);
      const file = createWriteStream(logFile, { flags: 'a' });
      const forward = (chunk: Buffer) => {
        file.write(chunk);
        if (options.echo)
          for (const line of chunk.toString('utf8').split('\n'))
            if (line.trim()) process.stdout.write(`[${id}] ${line}\n`);
      };
      child.stdout?.on('data', forward);
      child.stderr?.on('data', forward);
      nodes.push({
        id,
        port,
        url: `http://127.0.0.1:${port}`,
        logFile,
        alive: () => child.exitCode === null && child.signalCode === null,
        kill: async (signal) => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill(signal);
          await waitExit(child, 15_000);
        },
      });
    }
    log(`starting ${count} API nodes`);
    await Promise.all(
      nodes.map((node, i) => {
        const child = nodeChildren[i];
        if (!child) throw new Error('node process missing');
        // The port opens only after the node's invalidation channel is listening (see server.ts).
        return waitFor(() => portOpen(node.port), child, node.id, node.logFile, 90_000);
      }),
    );
    log(`starting nginx on 127.0.0.1:${balancerPort}`);
    procs.balancer = await startNginx({
      dir,
      port: balancerPort,
      upstreams: nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
    });

    return {
      url: `http://127.0.0.1:${balancerPort}`,
      nodes,
      databaseUrl,
      redisUrl,
      dir,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
