// @ts-check
/**
 * The thread that runs the registry's whole-fleet counts off the event loop (started by
 * counting-thread.ts): `ota_devices` for /metrics and the dashboard's fleet summary. Plain
 * JavaScript, type-checked by `// @ts-check`, like checkpoint-thread.js: the same file runs as
 * a Worker from the TypeScript sources the tests load and from the compiled build (tsc copies
 * it there).
 *
 * Its own read-only connection answers each question (`{ id, sql, params }`) with the rows
 * (`{ id, rows }`, or `{ id, error }`), one at a time, each in a read transaction of its own:
 * everything the server committed before asking is seen. `stop`, or `idleMs` without a
 * question, ends it.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

/** @typedef {{ file: string, idleMs: number }} CountingThreadData */
/** @typedef {{ id: number, sql: string, params?: Record<string, unknown> }} CountingQuestion */

const port = parentPort;
if (!port) throw new Error('counting-worker.js runs as a worker thread (see counting-thread.ts)');
const { file, idleMs } = /** @type {CountingThreadData} */ (workerData);

const db = new Database(file, { fileMustExist: true });
db.pragma('busy_timeout = 5000');
db.pragma('query_only = ON');
/** Prepared once per SQL text: the askers have a handful of fixed statements. */
const statements = new Map();
/** @param {string} sql */
const statement = (sql) => {
  let prepared = statements.get(sql);
  if (!prepared) statements.set(sql, (prepared = db.prepare(sql)));
  return prepared;
};

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

port.on('message', (/** @type {CountingQuestion | 'stop'} */ message) => {
  if (message === 'stop') return end();
  const { id, sql, params } = message;
  try {
    const prepared = statement(sql);
    port.postMessage({ id, rows: params ? prepared.all(params) : prepared.all() });
  } catch (err) {
    port.postMessage({ id, error: /** @type {Error} */ (err).message });
  }
  arm();
});
arm();
