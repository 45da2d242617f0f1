// @ts-check
/**
 * The WAL checkpoint thread (started by checkpointer.ts). Plain JavaScript, type-checked by
 * `// @ts-check`, so that the same file runs as a Worker from the TypeScript sources the tests
 * load and from the compiled build (tsc copies it there).
 *
 * Its own connection runs a PASSIVE checkpoint every `intervalMs`, which never blocks the
 * server's reads or writes: it copies what they committed to the WAL into the database file
 * and fsyncs it. When `idleChecks` checkpoints in a row found nothing new, it empties the WAL
 * file (TRUNCATE, quick once all is copied) and ends. Any message from the server stops it:
 * the server's own close, as the last connection, checkpoints what is left.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

/** @typedef {{ file: string, intervalMs: number, idleChecks: number }} CheckpointThreadData */

const port = parentPort;
if (!port) throw new Error('checkpoint-thread.js runs as a worker thread (see checkpointer.ts)');
const { file, intervalMs, idleChecks } = /** @type {CheckpointThreadData} */ (workerData);

const db = new Database(file, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
// A checkpoint copies WAL frames to the database file; it needs no large page cache.
db.pragma('cache_size = -1024');

let idle = 0;
let lastLog = -1;

const end = () => {
  clearInterval(timer);
  db.close();
  port.close();
};

const timer = setInterval(() => {
  const [{ log, checkpointed }] = /** @type {Array<{ log: number, checkpointed: number }>} */ (
    db.pragma('wal_checkpoint(PASSIVE)')
  );
  idle = log === checkpointed && log === lastLog ? idle + 1 : 0;
  lastLog = log;
  if (idle < idleChecks) return;
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
  } catch {
    // Busy after all: the server will start a thread again if the WAL keeps growing.
  }
  end();
}, intervalMs);

port.on('message', end);
