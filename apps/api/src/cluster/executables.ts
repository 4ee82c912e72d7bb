import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Finds a program on PATH, or in the sbin folders Debian installs daemons to (often not on a user's PATH). */
export function findExecutable(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** What a cluster needs from the distribution, and how to get it: the reason a test skips, or the CLI stops. */
export function missingClusterTools(needRedisServer: boolean): string[] {
  const missing: string[] = [];
  if (!findExecutable('nginx')) missing.push('nginx (apt-get install -y nginx)');
  if (needRedisServer && !findExecutable('redis-server'))
    missing.push('redis-server (apt-get install -y redis-server, or set REDIS_URL)');
  return missing;
}
