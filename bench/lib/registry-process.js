import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, waitForOk } from './net.js';
import { REGISTRY_MAIN } from './paths.js';

/**
 * Starts the production build as an operator would (`ota-registry serve`), its output going
 * to `logFile` as it would to a log collector. Resolves once `/healthz` answers, with the time
 * from spawn to that first answer. `cpuProfileDir`: run under `node --cpu-prof`, which writes
 * a .cpuprofile there when the registry exits.
 *
 * @param {{ dataDir: string, logFile: string, requestLog: boolean, extraArgs?: string[],
 *   cpuProfileDir?: string }} options
 */
export async function startRegistry({
  dataDir,
  logFile,
  requestLog,
  extraArgs = [],
  cpuProfileDir,
}) {
  const port = await freePort();
  const out = fs.openSync(logFile, 'a');
  const args = [
    ...(cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfileDir] : []),
    REGISTRY_MAIN,
    'serve',
    '--port',
    String(port),
    '--host',
    '127.0.0.1',
    '--data',
    dataDir,
  ];
  if (!requestLog) args.push('--no-request-log');
  args.push(...extraArgs);
  const started = performance.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', out, out] });
  fs.closeSync(out);
  let exited = false;
  child.once('exit', () => (exited = true));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForOk(`${url}/healthz`, { stillRunning: () => !exited });
  } catch (err) {
    child.kill('SIGKILL');
    const log = fs.readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n');
    throw new Error(`${err.message}\n--- ${logFile} ---\n${log}`, { cause: err });
  }
  return {
    url,
    pid: child.pid,
    startupMs: performance.now() - started,
    /** SIGTERM, as an init system would; resolves with the exit code. */
    stop: () => stopProcess(child, 'SIGTERM'),
  };
}

/**
 * Sends `signal` and waits for the exit (at most 15 s, then SIGKILL). Resolves with the exit
 * code, or the signal's name when it was killed.
 *
 * @param {import('node:child_process').ChildProcess} child
 * @param {NodeJS.Signals} signal
 */
export async function stopProcess(child, signal) {
  if (child.exitCode !== null || child.signalCode !== null)
    return child.exitCode ?? child.signalCode;
  const exited = new Promise((resolve) => child.once('exit', (code, sig) => resolve(code ?? sig)));
  child.kill(signal);
  const result = await Promise.race([exited, sleep(15_000, 'timeout', { ref: false })]);
  if (result !== 'timeout') return result;
  child.kill('SIGKILL');
  await exited;
  return 'SIGKILL after 15 s';
}
