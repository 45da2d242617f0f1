import { randomBytes } from 'node:crypto';
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import { ENGINE, type Db, type Engine, type Statement, type Transaction } from '../sql.js';

type Fn = Parameters<Db['transaction']>[0];
import type { PgThreadData } from './pg-thread.js';
import { bind, translate, type Translated } from './translate.js';

const THREAD = new URL('./pg-thread.js', import.meta.url);

/**
 * Every transaction takes this transaction-level advisory lock first, so that writers queue
 * one after another across all replicas, as SQLite's single writer does on one host: the
 * services' read-then-write steps (a deploy, a rollout's next phase) stay correct without
 * each knowing about isolation levels. Reads outside transactions never wait for it.
 */
const WRITE_LOCK = 4_172_905_331;

/** How long one query may take before the registry gives up on it (a lost server). */
const QUERY_TIMEOUT_MS = 60_000;

/** A failed query: PostgreSQL's message, with its SQLSTATE as `code`. */
class PgError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'PgError';
  }
}

interface Answer {
  id: number;
  rows: unknown[];
  changes: number;
  error?: { message: string; code?: string };
}

/**
 * PostgreSQL behind the synchronous interface the stores use (storage/sql.ts). One connection
 * per process, held by a worker thread (pg-thread.js); each query waits for its answer on a
 * shared flag, so the event loop is held for one round trip. On one host that is 50-150 µs per
 * query (npm run bench, phase postgres); a server further away costs its round trip on every
 * query, which is why the registry wants PostgreSQL in the same network (docs/capacity.md).
 * Statements are prepared once per connection (named), and transactions take WRITE_LOCK.
 */
export class PgDatabase implements Db {
  readonly [ENGINE]: Engine = 'postgres';
  readonly name: string;
  /** Statements this process ran that changed rows: a stamp for caches of this process. */
  writes = 0;
  private readonly worker: Worker;
  private readonly port;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private nextId = 0;
  private nextStatement = 0;
  /** Statement names of their own: a server may share prepared names between sessions (PGlite). */
  private readonly statementPrefix = `ota_${randomBytes(4).toString('hex')}_`;
  private depth = 0;
  private closed = false;

  constructor(url: string) {
    const display = new URL(url);
    display.password = '';
    this.name = display.href;
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const workerData: PgThreadData = {
      url,
      port: port2,
      signal: this.flag.buffer as SharedArrayBuffer,
    };
    this.worker = new Worker(THREAD, { workerData, transferList: [port2] });
    // The thread must not keep the process alive by itself, nor take it down: errors come back
    // as answers, and a thread that died makes the next query fail with its message.
    this.worker.unref();
    this.worker.on('error', () => undefined);
  }

  /** Runs one statement in PostgreSQL's own dialect (`$1` parameters); no translation. */
  query<Row = Record<string, unknown>>(
    sql: string,
    values: unknown[] = [],
    options: { name?: string; pluck?: boolean } = {},
  ): { rows: Row[]; changes: number } {
    if (this.closed) throw new TypeError('The database connection is not open');
    const id = ++this.nextId;
    Atomics.store(this.flag, 0, 0);
    this.port.postMessage({ id, sql, values, ...options });
    const deadline = Date.now() + QUERY_TIMEOUT_MS;
    for (;;) {
      const got = receiveMessageOnPort(this.port) as { message: Answer } | undefined;
      if (got) {
        // An answer to a question that timed out earlier arrives late: not this one's.
        if (got.message.id !== id) continue;
        const { error, rows, changes } = got.message;
        if (error) throw new PgError(error.message, error.code);
        if (changes > 0 && !/^\s*select/i.test(sql)) this.writes++;
        return { rows: rows as Row[], changes };
      }
      const left = deadline - Date.now();
      if (left <= 0 || this.worker.threadId === -1) {
        throw new PgError(
          this.worker.threadId === -1
            ? 'the PostgreSQL connection thread has stopped'
            : `PostgreSQL did not answer within ${QUERY_TIMEOUT_MS / 1000} s`,
          '57014',
        );
      }
      Atomics.wait(this.flag, 0, 0, Math.min(left, 1000));
      Atomics.store(this.flag, 0, 0);
    }
  }

  prepare<Params extends unknown[] | object = unknown[], Row = unknown>(
    source: string,
  ): Params extends unknown[] ? Statement<Params, Row> : Statement<[Params], Row> {
    // A LIKE is planned with its pattern each time (unnamed): a plan made once for any pattern
    // cannot use the trigram indexes, and scans.
    const name = /\bLIKE\b/i.test(source)
      ? undefined
      : `${this.statementPrefix}${++this.nextStatement}`;
    return new PgStatement(this, translate(source), name) as never;
  }

  transaction<F extends Fn>(fn: F): Transaction<F> {
    const run = (...args: unknown[]): ReturnType<F> => {
      const outer = this.depth === 0;
      const savepoint = `ota_sp_${this.depth}`;
      if (outer) {
        this.query('BEGIN');
        try {
          this.query('SELECT pg_advisory_xact_lock($1)', [WRITE_LOCK], {
            name: `${this.statementPrefix}lock`,
          });
        } catch (err) {
          this.rollbackQuietly('ROLLBACK');
          throw err;
        }
      } else {
        this.query(`SAVEPOINT ${savepoint}`);
      }
      this.depth++;
      let result: ReturnType<F>;
      try {
        result = fn(...args) as ReturnType<F>;
      } catch (err) {
        this.depth--;
        this.rollbackQuietly(outer ? 'ROLLBACK' : `ROLLBACK TO SAVEPOINT ${savepoint}`);
        throw err;
      }
      this.depth--;
      if (outer) {
        try {
          this.query('COMMIT');
        } catch (err) {
          this.rollbackQuietly('ROLLBACK');
          throw err;
        }
      } else {
        this.query(`RELEASE SAVEPOINT ${savepoint}`);
      }
      return result;
    };
    return Object.assign(run, { immediate: run }) as Transaction<F>;
  }

  /**
   * Runs `task` holding WRITE_LOCK at session level: no other process's transaction (another
   * replica's commit) starts until it is done; this process's own pass (the lock is re-entrant
   * within a session). For a check-then-act on something outside the database that a commit
   * elsewhere must not slip between (the S3 sweep's "no record names it, remove it").
   */
  async whileOthersCannotCommit<T>(task: () => Promise<T>): Promise<T> {
    this.query('SELECT pg_advisory_lock($1)', [WRITE_LOCK]);
    try {
      return await task();
    } finally {
      this.query('SELECT pg_advisory_unlock($1)', [WRITE_LOCK]);
    }
  }

  /** Runs statements without parameters, several separated by `;` (migrations). */
  exec(source: string): this {
    this.query(source);
    return this;
  }

  close(): this {
    if (this.closed) return this;
    try {
      this.query('', [], { close: true } as never);
    } catch {
      // Closing a connection that is already gone.
    }
    this.closed = true;
    this.port.close();
    void this.worker.terminate();
    return this;
  }

  get open(): boolean {
    return !this.closed;
  }

  private rollbackQuietly(sql: string): void {
    try {
      this.query(sql);
    } catch {
      // The connection broke: PostgreSQL rolls the transaction back by itself.
    }
  }
}

class PgStatement implements Statement<unknown[], unknown> {
  private plucking = false;

  constructor(
    private readonly db: PgDatabase,
    private readonly translated: Translated,
    private readonly name: string | undefined,
  ) {}

  get(...params: unknown[]): unknown {
    return this.execute(params).rows[0];
  }

  all(...params: unknown[]): unknown[] {
    return this.execute(params).rows;
  }

  run(...params: unknown[]): { changes: number } {
    return { changes: this.execute(params).changes };
  }

  pluck(toggle = true): this {
    this.plucking = toggle;
    return this;
  }

  private execute(params: unknown[]) {
    return this.db.query(this.translated.text, bind(this.translated, params), {
      name: this.name,
      pluck: this.plucking,
    });
  }
}
