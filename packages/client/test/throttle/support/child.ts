/**
 * Runs a TypeScript fixture in a separate Node process (through tsx) and talks to it in JSON lines: the
 * cluster tests need genuinely separate processes, and the close test needs a process that must exit on
 * its own.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const PACKAGE_DIR = fileURLToPath(new URL('../../..', import.meta.url));

export interface Child {
  /** Resolves with the next JSON line whose `event` is `name`. */
  next(name: string): Promise<Record<string, unknown>>;
  send(message: Record<string, unknown>): void;
  /** Resolves with the exit code; kills the process after `timeoutMs`. */
  exited(timeoutMs: number): Promise<{ code: number | null; timedOut: boolean; stderr: string }>;
  kill(): void;
}

export function startChild(fixture: string, config: Record<string, unknown>): Child {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      fileURLToPath(new URL(`../fixtures/${fixture}`, import.meta.url)),
      JSON.stringify(config),
    ],
    { cwd: PACKAGE_DIR, stdio: ['pipe', 'pipe', 'pipe'], env: process.env },
  );
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<{ name: string; resolve: (line: Record<string, unknown>) => void }> = [];
  let stderr = '';
  let buffer = '';

  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    for (let end = buffer.indexOf('\n'); end >= 0; end = buffer.indexOf('\n')) {
      const text = buffer.slice(0, end);
      buffer = buffer.slice(end + 1);
      if (!text.trim()) continue;
      const line = JSON.parse(text) as Record<string, unknown>;
      const waiter = waiters.find((candidate) => candidate.name === line.event);
      if (waiter) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      } else {
        lines.push(line);
      }
    }
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  return {
    next: (name) => {
      const ready = lines.find((line) => line.event === name);
      if (ready) {
        lines.splice(lines.indexOf(ready), 1);
        return Promise.resolve(ready);
      }
      return new Promise((resolve, reject) => {
        waiters.push({ name, resolve });
        exit.then((code) => reject(new Error(`child exited (${code}) before "${name}"; stderr:\n${stderr}`)));
      });
    },
    send: (message) => {
      child.stdin?.write(`${JSON.stringify(message)}\n`);
    },
    exited: async (timeoutMs) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const result = await Promise.race([exit, timeout]);
      clearTimeout(timer);
      if (result === 'timeout') {
        child.kill('SIGKILL');
        return { code: await exit, timedOut: true, stderr };
      }
      return { code: result, timedOut: false, stderr };
    },
    kill: () => {
      child.kill('SIGKILL');
    },
  };
}
