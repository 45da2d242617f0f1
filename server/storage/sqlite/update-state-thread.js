// @ts-check
/**
 * The thread that counts devices by update state for `ota_devices` (started by
 * update-state-counts.ts). Plain JavaScript, type-checked by `// @ts-check`, like
 * checkpoint-thread.js: the same file runs as a Worker from the TypeScript sources the tests
 * load and from the compiled build (tsc copies it there).
 *
 * Its own read-only connection answers each message with the counts (`{ rows }`, or
 * `{ error }`); `stop`, or `idleMs` without a question, ends it.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

/** @typedef {{ file: string, sql: string, idleMs: number }} UpdateStateThreadData */

const port = parentPort;
if (!port)
  throw new Error('update-state-thread.js runs as a worker thread (see update-state-counts.ts)');
const { file, sql, idleMs } = /** @type {UpdateStateThreadData} */ (workerData);

const db = new Database(file, { fileMustExist: true });
db.pragma('busy_timeout = 5000');
db.pragma('query_only = ON');
const count = db.prepare(sql);

/** @type {NodeJS.Timeout | undefined} */
let idle;
const end = () => {
  clearTimeout(idle);
  db.close();
  port.close();
};
const arm = () => {
  clearTimeout(idle);
  idle = setTimeout(end, idleMs);
};

port.on('message', (message) => {
  if (message === 'stop') return end();
  try {
    port.postMessage({ rows: count.all() });
  } catch (err) {
    port.postMessage({ error: /** @type {Error} */ (err).message });
  }
  arm();
});
arm();
