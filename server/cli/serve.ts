import cluster from 'node:cluster';
import type { ParseArgsConfig } from 'node:util';
import { startServer } from '../app.js';
import { loadConfig, type ConfigFlags } from '../config.js';
import { createContext } from '../context.js';
import { logError, setLogFormat } from '../log.js';
import type { FirmwareStore } from '../storage/firmware-store.js';
import { describeLocation } from '../storage/s3/s3-firmware-store.js';
import { parse } from './args.js';
import { runPrimary, type StartupState, type WorkerMessage } from './cluster.js';

const OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  'max-upload-size': { type: 'string' },
  history: { type: 'string' },
  workers: { type: 'string' },
  'no-request-log': { type: 'boolean', default: false },
  'log-format': { type: 'string' },
  'trust-proxy': { type: 'boolean', default: false },
  'download-idle-timeout': { type: 'string' },
  'device-failure-limit': { type: 'string' },
  mqtt: { type: 'string' },
  'mqtt-device-trigger-topic': { type: 'string' },
  'mqtt-group-trigger-topic': { type: 'string' },
  'mqtt-response-topic': { type: 'string' },
  'mqtt-status-topic': { type: 'string' },
  'metrics-token': { type: 'string' },
  storage: { type: 'string' },
  database: { type: 'string' },
  'silent-after': { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

/** `ota-registry serve [options]`: see runServe. */
export function serveCommand(args: string[]): Promise<number> {
  return runServe(parse(args, OPTIONS, 0).values);
}

/**
 * `ota-registry serve`: validates the configuration, opens the data directory, removes
 * uploads a crash cut short, listens, and on SIGTERM/SIGINT lets in-flight requests finish
 * before exiting 0. Resolves with the exit code once the server has stopped.
 *
 * With `--workers N` (N > 1) this process becomes the primary (cli/cluster.ts), which does the
 * once-only start-up work and forks N workers; each worker runs this function again and only
 * serves.
 */
async function runServe(flags: ConfigFlags & { data?: string }): Promise<number> {
  const config = loadConfig(flags);
  const log = (line: string) => process.stdout.write(line + '\n');
  setLogFormat(config.logFormat);
  const announceAll: typeof announce = (...args) => {
    announce(...args);
    if (config.database) log(`Metadata in PostgreSQL at ${config.database.displayUrl}`);
    if (config.storage) log(`Firmware in ${describeLocation(config.storage)} (docs/storage.md)`);
  };
  if (config.workers > 1 && cluster.isPrimary) return runPrimary(config, announceAll);
  const worker = cluster.isWorker;
  const context = createContext(config);
  // A worker must not: the files in tmp/ may be another worker's uploads in progress.
  const leftovers = worker ? 0 : context.files.removeLeftoverTempFiles();
  const running = await startServer(context);
  const sweeps = sweepPeriodically(context.files);
  if (worker) process.send?.({ listening: running.url } satisfies WorkerMessage);
  else
    announceAll(running.url, config.dataDir, {
      leftovers,
      hasUsers: context.auth.hasUsers(),
      mqtt: config.mqtt?.displayUrl ?? null,
    });

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      if (!worker) log(`${signal}: finishing in-flight requests...`);
      clearInterval(sweeps);
      void running.close().then(() => {
        // The IPC channel to the primary would keep a worker's event loop alive.
        if (worker) process.disconnect?.();
        resolve(0);
      });
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

/** How often a serving process sweeps unreferenced firmware objects (S3); the first run at start. */
const SWEEP_EVERY_MS = 60 * 60 * 1000;

/**
 * Runs the store's sweep now and every hour, in the background. Every process may run it
 * (replicas, workers): it removes only what no record names, and removing twice is harmless.
 */
function sweepPeriodically(files: FirmwareStore): NodeJS.Timeout {
  const sweep = () =>
    void files.sweep().then(
      (removed) => {
        if (removed > 0)
          process.stdout.write(`Removed ${removed} unreferenced firmware object(s).\n`);
      },
      (err: unknown) => logError('firmware sweep failed (retried in an hour)', err),
    );
  sweep();
  return setInterval(sweep, SWEEP_EVERY_MS).unref();
}

/** The lines `serve` starts with, once the port is bound (printed by the primary with workers). */
function announce(url: string, dataDir: string, state: StartupState, workers = 1): void {
  const log = (line: string) => process.stdout.write(line + '\n');
  if (state.leftovers > 0) {
    log(`Removed ${state.leftovers} unfinished upload(s) left by an earlier run.`);
  }
  log(
    `ota-registry listening on ${url} (data: ${dataDir}${workers > 1 ? `, ${workers} workers` : ''})`,
  );
  if (state.mqtt) log(`MQTT broker ${state.mqtt}: triggers and device reports (docs/push.md)`);
  if (!state.hasUsers) {
    log('No users yet. Create one (it prints an API key) with:');
    log(`  npx ota-registry user add you@example.com --data ${shellQuote(dataDir)}`);
  }
}

function shellQuote(text: string): string {
  return /^[\w./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
