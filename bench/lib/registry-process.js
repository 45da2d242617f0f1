// @ts-check
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { REGISTRY_CLI, registryEnv, stopProcess } from '../../test/support/serve-process.js';
import { freePort } from '../../test/support/serve-process.js';
import { waitForOk } from './net.js';

/**
 * Starts the production build as an operator would (`ota-registry serve`), its output going
 * to `logFile` as it would to a log collector (not a pipe: reading one would cost the measured
 * machine), on a port picked first so that `/healthz` can be timed from the spawn. The CLI, its
 * environment and the stop are test/support/serve-process.js's, as for the tests. Resolves once `/healthz` answers, with the time
 * from spawn to that first answer. `cpuProfileDir`: run under `node --cpu-prof`, which writes
 * a .cpuprofile there when the registry exits.
 *
 * `env`: settings for the registry's environment on top of the bench's (e.g. OTA_STORAGE_URL).
 * `cli`: another build's build/server/cli/main.js (a baseline to compare with).
 *
 * @param {{ dataDir: string, logFile: string, requestLog: boolean, extraArgs?: string[],
 *   cpuProfileDir?: string, env?: NodeJS.ProcessEnv, cli?: string }} options
 */
export async function startRegistry({
  dataDir,
  logFile,
  requestLog,
  extraArgs = [],
  cpuProfileDir,
  env = {},
  cli = REGISTRY_CLI,
}) {
  const port = await freePort();
  const out = fs.openSync(logFile, 'a');
  const args = [
    ...(cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfileDir] : []),
    cli,
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
  const child = spawn(process.execPath, args, {
    env: registryEnv(env),
    stdio: ['ignore', out, out],
  });
  fs.closeSync(out);
  let exited = false;
  child.once('exit', () => (exited = true));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForOk(`${url}/healthz`, { stillRunning: () => !exited });
  } catch (err) {
    child.kill('SIGKILL');
    const log = fs.readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n');
    throw new Error(`${/** @type {Error} */ (err).message}\n--- ${logFile} ---\n${log}`, {
      cause: err,
    });
  }
  return {
    url,
    // Spawned and answering: it has a process id.
    pid: /** @type {number} */ (child.pid),
    startupMs: performance.now() - started,
    /** SIGTERM, as an init system would; resolves with the exit code. */
    stop: () => stopProcess(child, 'SIGTERM'),
  };
}
