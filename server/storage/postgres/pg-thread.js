// @ts-check
/**
 * The thread that holds a PgDatabase's connection (pg-database.ts). The registry's stores are
 * synchronous (better-sqlite3's shape, storage/sql.ts); this thread runs each query on its own
 * `pg` client, asynchronously as the driver must, while the asking thread waits on a shared
 * flag (Atomics.wait) and then takes the answer from its port (receiveMessageOnPort).
 *
 * Questions (`{ id, sql, values, name, pluck }`) are answered one at a time, in order: the asker
 * waits for each. Answers: `{ id, rows, changes }` or `{ id, error: { message, code } }`.
 * A connection that breaks is replaced at the next question, unless a transaction was open on
 * it (then that question fails, as the transaction is lost, and the next one reconnects).
 * Plain JavaScript with `// @ts-check`, as counting-worker.js: the same file runs from the
 * sources the tests load and from the compiled build.
 */
import pg from 'pg';
import { workerData } from 'node:worker_threads';

/** @typedef {{ url: string, port: import('node:worker_threads').MessagePort, signal: SharedArrayBuffer }} PgThreadData */
/** @typedef {{ id: number, sql: string, values: unknown[], name?: string, pluck?: boolean, close?: boolean }} PgQuestion */

const { url, port, signal } = /** @type {PgThreadData} */ (workerData);
const flag = new Int32Array(signal);

// PostgreSQL's 64-bit integers and numerics come back as numbers, as SQLite's do: counts,
// sums and the registry's BIGINT columns all stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));

/** @type {pg.Client | undefined} */
let client;
/** @type {Promise<unknown> | undefined} */
let connected;
let broken = false;
let inTransaction = false;

function connect() {
  const fresh = new pg.Client({
    connectionString: url,
    application_name: 'ota-registry',
    connectionTimeoutMillis: 10_000,
    keepAlive: true,
  });
  broken = false;
  fresh.on('error', () => {
    broken = true;
  });
  client = fresh;
  connected = fresh.connect();
  return connected;
}

/** @param {PgQuestion} question */
async function answer(question) {
  if (!client || broken) {
    if (client && inTransaction) {
      inTransaction = false;
      client = undefined;
      throw Object.assign(new Error('the connection to PostgreSQL broke during a transaction'), {
        code: '08006',
      });
    }
    client?.end().catch(() => undefined);
    await connect();
  }
  await connected;
  /** @type {pg.QueryConfig} */
  const config = { text: question.sql, values: question.values, name: question.name };
  const result = question.pluck
    ? await /** @type {pg.Client} */ (client).query({ ...config, rowMode: 'array' })
    : await /** @type {pg.Client} */ (client).query(config);
  const command = result.command;
  if (command === 'BEGIN') inTransaction = true;
  else if (command === 'COMMIT' || command === 'ROLLBACK') inTransaction = false;
  const rows = question.pluck
    ? result.rows.map((/** @type {unknown[]} */ row) => row[0])
    : result.rows;
  return { rows, changes: result.rowCount ?? 0 };
}

/** @param {unknown} reply */
function reply(reply) {
  port.postMessage(reply);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}

port.on('message', async (/** @type {PgQuestion} */ question) => {
  if (question.close) {
    await client?.end().catch(() => undefined);
    reply({ id: question.id, rows: [], changes: 0 });
    port.close();
    return;
  }
  try {
    reply({ id: question.id, ...(await answer(question)) });
  } catch (err) {
    const e = /** @type {{ message?: string, code?: string, detail?: string }} */ (err);
    if (!e.code || /^(08|57P)/.test(e.code) || /ECONN|EPIPE|terminat/i.test(e.message ?? '')) {
      broken = true;
    }
    reply({ id: question.id, error: { message: e.message ?? String(err), code: e.code } });
  }
});
