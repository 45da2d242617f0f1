import pg from 'pg';
import type { Counting } from '../counting.js';
import { bind, translate } from './translate.js';

/**
 * The fleet counts on PostgreSQL (storage/counting.ts): asynchronous queries on a pool of at
 * most two connections of their own, opened at the first question, so counting 100k devices
 * waits on the server, not on the event loop. Each question sees every commit made before it
 * was asked (READ COMMITTED, a statement of its own).
 */
export class PgCounting implements Counting {
  private pool: pg.Pool | undefined;

  constructor(private readonly url: string) {}

  async all<Row>(sql: string, params: Record<string, unknown> = {}): Promise<Row[]> {
    this.pool ??= newPool(this.url);
    const translated = translate(sql);
    const values = translated.names ? bind(translated, [params]) : [];
    const result = await this.pool.query({ text: translated.text, values, types: NUMBERS });
    return result.rows as Row[];
  }

  async stop(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end();
  }
}

function newPool(url: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 2, idleTimeoutMillis: 30_000 });
  // A connection that breaks while idle is dropped by the pool; the next question opens another.
  pool.on('error', () => undefined);
  return pool;
}

/** Counts and sums as numbers, as SQLite gives them (pg-thread.js does the same). */
const NUMBERS = {
  getTypeParser: (oid: number, format?: string) =>
    oid === pg.types.builtins.INT8 || oid === pg.types.builtins.NUMERIC
      ? Number
      : pg.types.getTypeParser(oid, format as 'text'),
};
