/**
 * `pnpm cluster`: N API nodes (default 3, `--nodes N`) on one PostgreSQL and one Redis, behind nginx, in the
 * foreground; Ctrl-C stops everything. DATABASE_URL / REDIS_URL / PORT are used when set (PORT is the balancer's
 * port, default 3000); otherwise the embedded PostgreSQL (data under DATA_DIR, like `pnpm start`) and a private
 * redis-server. Other variables (RATE_LIMIT_*, LOG_LEVEL, INVALIDATION_CHANNEL…) are passed to every node.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.ts';
import { startCluster } from './cluster.ts';
import { missingClusterTools } from './executables.ts';

const { values } = parseArgs({
  options: { nodes: { type: 'string', default: '3' }, help: { type: 'boolean', short: 'h' } },
});
if (values.help) {
  console.log('usage: pnpm cluster [--nodes N]   (see README: "Several API nodes")');
  process.exit(0);
}
const config = loadConfig();
const missing = missingClusterTools(!config.redisUrl);
if (missing.length > 0) {
  console.error(`pnpm cluster needs: ${missing.join('; ')}`);
  process.exit(1);
}
const cluster = await startCluster({
  nodes: Number(values.nodes),
  databaseUrl: config.databaseUrl,
  dataDir: config.databaseUrl ? undefined : `${config.dataDir}/postgres`,
  redisUrl: config.redisUrl,
  port: Number(process.env.PORT ?? 3000),
  entry: 'dist',
  env: { LOG_LEVEL: config.logLevel },
  echo: true,
  log: (line) => console.log(`[cluster] ${line}`),
});
console.log(`[cluster] ${cluster.nodes.length} API nodes behind nginx at ${cluster.url}`);
for (const node of cluster.nodes) console.log(`[cluster]   ${node.id}: ${node.url}`);
console.log(
  `[cluster] Redis ${cluster.redisUrl.replace(/\/\/[^@]*@/, '//***@')}; nginx config in ${cluster.dir}`,
);
console.log('[cluster] Ctrl-C stops everything');
let stopping = false;
const shutdown = () => {
  if (stopping) return;
  stopping = true;
  console.log('[cluster] stopping');
  cluster.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
