#!/usr/bin/env node
// Runs a command beside CPU-bound processes, to prove tests hold on a fully loaded machine (issue 13: tests
// assert behaviour, never speed). By default one busy process per core; the command gets no head start.
//
//   node scripts/load.mjs [--per-core N] -- <command> [args…]
//
// Exits with the command's exit code. The burners are our own children: they stop when the command ends, when
// this script is interrupted, and by themselves if this script dies (each one checks that its parent lives).
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';

const args = process.argv.slice(2);
const separator = args.indexOf('--');
const options = separator === -1 ? [] : args.slice(0, separator);
const command = separator === -1 ? args : args.slice(separator + 1);
const perCoreAt = options.indexOf('--per-core');
const perCore = perCoreAt === -1 ? 1 : Number(options[perCoreAt + 1]);
if (command.length === 0 || !Number.isInteger(perCore) || perCore < 1) {
  process.stderr.write('usage: node scripts/load.mjs [--per-core N] -- <command> [args…]\n');
  process.exit(2);
}

// Pure CPU: floating-point work in a tight loop, checking every ~50 ms that the parent still exists.
const BURN = `
const parent = Number(process.argv[1]);
let x = 0;
for (;;) {
  const until = Date.now() + 50;
  while (Date.now() < until) for (let i = 0; i < 1e4; i++) x = Math.sqrt(x + i) * 1.000001;
  try { process.kill(parent, 0); } catch { process.exit(0); }
}`;

const cores = availableParallelism();
const burners = Array.from({ length: cores * perCore }, () =>
  spawn(process.execPath, ['-e', BURN, String(process.pid)], { stdio: 'ignore' }),
);
const stopBurners = () => {
  for (const b of burners) if (b.exitCode === null && b.signalCode === null) b.kill('SIGKILL');
};
process.on('exit', stopBurners);
process.stderr.write(
  `[load] ${burners.length} CPU-bound process(es) (${perCore} per core × ${cores} cores) beside: ${command.join(' ')}\n`,
);

const started = Date.now();
const child = spawn(command[0], command.slice(1), { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    child.kill(signal);
    stopBurners();
  });
}
child.on('exit', (code, signal) => {
  stopBurners();
  process.stderr.write(
    `[load] command ended (${signal ?? `exit ${code}`}) after ${Math.round((Date.now() - started) / 1000)} s under load\n`,
  );
  process.exit(code ?? 1);
});
