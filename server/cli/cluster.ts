import cluster, { type Worker } from 'node:cluster';
import type { Config } from '../config.js';
import { createContext } from '../context.js';
import { startReportSubscriptions } from '../services/device-reports.js';
import { answerWorkersMetrics } from '../metrics/cluster-metrics.js';

/** What a worker tells the primary once it listens. */
export interface WorkerMessage {
  listening: string;
}

/** What start-up found, for the first lines `serve` prints. */
export interface StartupState {
  leftovers: number;
  hasUsers: boolean;
  /** The broker (without its password), when `--mqtt` is set. */
  mqtt: string | null;
}

/** A worker that dies sooner than this after its start is not replaced: something is wrong. */
const MIN_UPTIME_MS = 5000;

/**
 * The primary of `serve --workers N`. It runs the migrations and removes unfinished uploads
 * once, before any worker opens the database, then forks N workers that share the port (the
 * kernel spreads connections between them). A worker that dies is replaced, unless it died
 * within 5 s of starting (then all stop, exit 1). SIGTERM/SIGINT: every worker finishes its
 * in-flight requests, then the primary exits 0. It also answers the workers' `/metrics`
 * (metrics/cluster-metrics.ts).
 *
 * Why several processes: one Node process serves `latest` on one core; on two cores two
 * workers answered 55% more polls per second (npm run bench). They stay consistent because
 * every request reads SQLite (WAL: readers see each commit at once, writers queue on
 * busy_timeout) and no worker keeps state another worker's write could make stale.
 */
export function runPrimary(
  config: Config,
  announce: (url: string, dataDir: string, state: StartupState, workers: number) => void,
): Promise<number> {
  // The primary serves no polls (the workers do, each with its own cache on PostgreSQL).
  const context = createContext(config, { serving: false });
  const state = {
    leftovers: context.files.removeLeftoverTempFiles(),
    hasUsers: context.auth.hasUsers(),
    mqtt: config.mqtt?.displayUrl ?? null,
  };
  // MQTT reports are recorded here, by one process: were every worker subscribed, each report
  // would be received and written N times. Workers publish triggers on links of their own.
  const subscriptions = startReportSubscriptions(context);
  const closeContext = async () => {
    subscriptions?.stop();
    await context.push.close();
    context.reports.flush();
    context.db.close();
  };
  if (!subscriptions) context.db.close();
  const metrics = answerWorkersMetrics(context.counting);

  const log = (line: string) => process.stdout.write(line + '\n');
  const started = new Map<Worker, number>();
  let announced = false;
  let stopping = false;

  return new Promise<number>((resolve) => {
    const fork = () => {
      const worker = cluster.fork();
      started.set(worker, Date.now());
      worker.on('message', (message: WorkerMessage) => {
        if (announced || typeof message?.listening !== 'string') return;
        announced = true;
        announce(message.listening, config.dataDir, state, config.workers);
      });
    };
    let exitCode = 0;
    const finish = (code: number) => {
      const done = () => void metrics.stop().then(() => resolve(code));
      if (subscriptions) void closeContext().then(done);
      else done();
    };
    const stopAll = (code: number) => {
      stopping = true;
      exitCode = code;
      for (const worker of started.keys()) worker.process.kill('SIGTERM');
      if (started.size === 0) finish(code);
    };

    cluster.on('exit', (worker, code, signal) => {
      const uptime = Date.now() - (started.get(worker) ?? 0);
      started.delete(worker);
      if (stopping) {
        if (started.size === 0) finish(exitCode);
        return;
      }
      log(
        `worker ${worker.process.pid} exited (${signal ?? `code ${code}`}) after ${Math.round(uptime / 1000)} s`,
      );
      if (uptime < MIN_UPTIME_MS) {
        log('It died right after starting: stopping the others.');
        stopAll(1);
      } else {
        fork();
      }
    });
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        if (stopping) return;
        log(`${signal}: finishing in-flight requests in ${started.size} workers...`);
        stopAll(0);
      });
    }
    for (let i = 0; i < config.workers; i++) fork();
  });
}
