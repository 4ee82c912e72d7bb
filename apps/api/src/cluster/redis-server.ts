import { type ChildProcess, spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { join } from 'node:path';
import { findExecutable } from './executables.ts';
import { waitForPort } from './wait.ts';

/**
 * A private Redis for a cluster started without REDIS_URL: Debian's redis-server, on a free port, loopback only,
 * nothing written to disk (counters are worth nothing after the cluster stops).
 */
export async function startRedisServer(dir: string, port: number): Promise<ChildProcess> {
  const bin = findExecutable('redis-server');
  if (!bin)
    throw new Error(
      'redis-server is not installed (apt-get install -y redis-server), and REDIS_URL is not set',
    );
  const log = join(dir, 'redis.log');
  const out = openSync(log, 'a');
  const child = spawn(
    bin,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: ['ignore', out, out] },
  );
  try {
    await waitForPort(port, child, 'redis-server', log);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return child;
}
