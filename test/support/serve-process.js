// @ts-check
/**
 * What every helper that runs `ota-registry serve` as a process shares: the compiled CLI, the
 * environment the process gets, and how it is stopped. test/support/registry-process.ts (the
 * tests) and bench/lib/registry-process.js (the bench, which runs with node alone, hence plain
 * JavaScript, type-checked) both start it from here.
 */
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** The compiled CLI, as `npm start` and operators run it (`npm test` and `npm run bench` build it). */
export const REGISTRY_CLI = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../build/server/cli/main.js',
);

/**
 * What a registry process gets of this process's environment: everything but OTA_* (an outer
 * setting would change what is tested or measured) and NODE_OPTIONS (Jest's flags are not for
 * children).
 *
 * @param {NodeJS.ProcessEnv} [extra]
 * @returns {NodeJS.ProcessEnv}
 */
export function registryEnv(extra = {}) {
  /** @type {NodeJS.ProcessEnv} */
  const env = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('OTA_') && name !== 'NODE_OPTIONS') env[name] = value;
  }
  return { ...env, ...extra };
}

/**
 * Sends `signal` and waits for the exit (at most `graceMs`, then SIGKILL). Resolves with the
 * exit code, or the signal's name when it was killed.
 *
 * @param {import('node:child_process').ChildProcess} child
 * @param {NodeJS.Signals} signal
 * @param {number} [graceMs]
 * @returns {Promise<number | string>}
 */
export async function stopProcess(child, signal, graceMs = 15_000) {
  if (child.exitCode !== null || child.signalCode !== null)
    return child.exitCode ?? /** @type {string} */ (child.signalCode);
  /** @type {Promise<number | string>} */
  const exited = new Promise((resolve) =>
    child.once('exit', (code, sig) => resolve(code ?? /** @type {string} */ (sig))),
  );
  child.kill(signal);
  const result = await Promise.race([exited, sleep(graceMs, 'timeout', { ref: false })]);
  if (result !== 'timeout') return result;
  child.kill('SIGKILL');
  await exited;
  return `SIGKILL after ${graceMs / 1000} s`;
}

/**
 * A free TCP port on 127.0.0.1 for a process to listen on (closed again at once: there is a
 * small window to lose it).
 *
 * @returns {Promise<number>}
 */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}
