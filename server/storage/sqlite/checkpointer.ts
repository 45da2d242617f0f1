import fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import { logError } from '../../log.js';
import type { CheckpointThreadData } from './checkpoint-thread.js';
import type { SqliteDb as Db } from './database.js';

/** SQLite's own default for wal_autocheckpoint, restored if the checkpoint thread fails. */
const AUTOCHECKPOINT_PAGES = 1000;

/** The thread's code: see checkpoint-thread.js. */
const THREAD = new URL('./checkpoint-thread.js', import.meta.url);

export interface CheckpointerOptions {
  /** How often the thread checkpoints, and how often the server looks at the WAL's size. */
  intervalMs?: number;
  /** The WAL size that starts a thread: SQLite's own checkpoint point (1000 pages). */
  startAtBytes?: number;
  /** Checkpoints in a row with nothing new before the thread ends. */
  idleChecks?: number;
}

export interface Checkpointer {
  /** Ends the thread, if one runs; call it before closing the database (which checkpoints). */
  stop(): Promise<void>;
}

/**
 * Moves the server's WAL checkpoints off the event loop. By default SQLite checkpoints inside
 * the commit that takes the WAL past 1000 pages, on the thread that commits. The server's
 * busiest writer is the check-in batch: at 100k devices, the devices polling in one second sit on
 * about as many different pages, so nearly every batch set off a checkpoint and the event loop
 * stood still for it (1000 check-ins on a 100k-device database: 45-90 ms with the checkpoint,
 * 12-18 ms without; 1700, a 100k fleet polling every minute: 40-54 ms, 17 ms).
 *
 * Here the server's connection stops checkpointing. While the WAL is past SQLite's checkpoint
 * point, a thread with its own connection checkpoints once a second; it ends after half a
 * minute without writes, so a registry that is not writing does not carry its ~15 MiB (an idle
 * registry's memory is one of the bench's targets).
 *
 * If a thread cannot start or fails, the connection checkpoints by itself again, as before,
 * and the reason is logged: the WAL never grows without bound.
 */
export function startCheckpointer(db: Db, options: CheckpointerOptions = {}): Checkpointer {
  const {
    intervalMs = 1000,
    startAtBytes = AUTOCHECKPOINT_PAGES * (db.pragma('page_size', { simple: true }) as number),
    idleChecks = 30,
  } = options;
  const wal = `${db.name}-wal`;
  let thread: { worker: Worker; exited: Promise<void> } | undefined;
  let stopped = false;

  const fallBack = (why: string): void => {
    if (stopped) return;
    stopped = true;
    clearInterval(watch);
    logError(`WAL checkpoint thread ${why}; checkpointing inline`);
    if (db.open) db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
  };

  const start = (): void => {
    const worker = new Worker(THREAD, {
      workerData: { file: db.name, intervalMs, idleChecks } satisfies CheckpointThreadData,
    });
    let failed = false;
    const exited = new Promise<void>((resolve) => {
      worker.once('error', (err) => {
        failed = true;
        fallBack(`failed: ${err.message}`);
      });
      worker.once('exit', (code) => {
        thread = undefined;
        if (code !== 0 && !failed) fallBack(`exited with code ${code}`);
        resolve();
      });
    });
    thread = { worker, exited };
  };

  const walBytes = (): number => {
    try {
      return fs.statSync(wal).size;
    } catch {
      return 0;
    }
  };
  const watch = setInterval(() => {
    if (!thread && walBytes() >= startAtBytes) start();
  }, intervalMs);
  watch.unref();
  db.pragma('wal_autocheckpoint = 0');

  return {
    async stop() {
      stopped = true;
      clearInterval(watch);
      const running = thread;
      if (!running) return;
      running.worker.postMessage('stop');
      await running.exited;
    },
  };
}
