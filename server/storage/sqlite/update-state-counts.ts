import { Worker } from 'node:worker_threads';
import type { UpdateState } from '../../services/device-service.js';
import type { UpdateStateThreadData } from './update-state-thread.js';

export type UpdateStateCounts = Record<UpdateState, number>;

/**
 * How many devices are in each update state, by the rule of `updateState()` in
 * services/device-service.ts (a test holds the two equal): unknown until the device reported a
 * version and has one to be served; up-to-date when they are the same string; else pending.
 */
const UPDATE_STATE_COUNTS_SQL = `
  SELECT CASE
           WHEN running_version IS NULL OR served IS NULL THEN 'unknown'
           WHEN running_version = served THEN 'up-to-date'
           ELSE 'pending'
         END AS state,
         count(*) AS n
  FROM (SELECT d.running_version, COALESCE(g.ota_version, d.ota_version) AS served
        FROM devices d LEFT JOIN groups g ON g.id = d.group_id)
  GROUP BY state`;

/** The thread's code: see update-state-thread.js. */
const THREAD = new URL('./update-state-thread.js', import.meta.url);

export interface UpdateStateCounterOptions {
  /** Counts younger than this are answered again without asking the database. */
  maxAgeMs?: number;
  /** The thread ends after this long without a question (a registry nobody scrapes keeps none). */
  idleMs?: number;
}

type Pending = { resolve(counts: UpdateStateCounts): void; reject(err: Error): void };

/**
 * Counts devices by update state for `ota_devices`, off the event loop. The count reads every
 * device row: at 100,000 devices 150-300 ms of SQLite work, during which a server thread could
 * answer no poll. Here a worker thread with its own connection to the same file (WAL: readers
 * never block the server's writes, nor its reads) runs it, and a result is reused for
 * `maxAgeMs`, so several Prometheus servers scraping at once cost one count.
 */
export class UpdateStateCounter {
  private thread: { worker: Worker; exited: Promise<void> } | undefined;
  private pending: Pending | undefined;
  private inFlight: Promise<UpdateStateCounts> | undefined;
  private last: { at: number; counts: UpdateStateCounts } | undefined;
  private stopped = false;
  private readonly maxAgeMs: number;
  private readonly idleMs: number;

  constructor(
    private readonly dbFile: string,
    { maxAgeMs = 10_000, idleMs = 120_000 }: UpdateStateCounterOptions = {},
  ) {
    this.maxAgeMs = maxAgeMs;
    this.idleMs = idleMs;
  }

  /** Counts at most `maxAgeMs` old. */
  counts(): Promise<UpdateStateCounts> {
    if (this.last && Date.now() - this.last.at < this.maxAgeMs) {
      return Promise.resolve(this.last.counts);
    }
    this.inFlight ??= this.ask().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  /** Whether a counting thread is running now. */
  get threadRunning(): boolean {
    return this.thread !== undefined;
  }

  /** Ends the thread, if one runs. */
  async stop(): Promise<void> {
    this.stopped = true;
    const running = this.thread;
    if (!running) return;
    running.worker.postMessage('stop');
    await running.exited;
  }

  private ask(): Promise<UpdateStateCounts> {
    const worker = (this.thread ??= this.startThread()).worker;
    return new Promise<UpdateStateCounts>((resolve, reject) => {
      this.pending = { resolve, reject };
      worker.postMessage('count');
    }).then((counts) => {
      this.last = { at: Date.now(), counts };
      return counts;
    });
  }

  private startThread(): { worker: Worker; exited: Promise<void> } {
    const workerData: UpdateStateThreadData = {
      file: this.dbFile,
      sql: UPDATE_STATE_COUNTS_SQL,
      idleMs: this.idleMs,
    };
    const worker = new Worker(THREAD, { workerData });
    const settle = (outcome: { rows?: { state: UpdateState; n: number }[]; error?: string }) => {
      const pending = this.pending;
      this.pending = undefined;
      if (!pending) return;
      if (outcome.rows) {
        const counts: UpdateStateCounts = { 'up-to-date': 0, pending: 0, unknown: 0 };
        for (const { state, n } of outcome.rows) counts[state] = n;
        pending.resolve(counts);
      } else {
        pending.reject(new Error(`counting devices by update state: ${outcome.error}`));
      }
    };
    worker.on('message', settle);
    worker.once('error', (err) => settle({ error: err.message }));
    const exited = new Promise<void>((resolve) =>
      worker.once('exit', () => {
        this.thread = undefined;
        // Still waiting: the question crossed the thread's idle end. Ask a new thread once.
        const pending = this.pending;
        this.pending = undefined;
        if (pending && !this.stopped) this.ask().then(pending.resolve, pending.reject);
        else pending?.reject(new Error('counting devices by update state: stopped'));
        resolve();
      }),
    );
    return { worker, exited };
  }
}
